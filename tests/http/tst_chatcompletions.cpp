// Integration: the proxy on a real loopback socket over simulated providers, non-streaming requests.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using Step = SimulatedProvider::Step;

class TestChatCompletions : public QObject
{
    Q_OBJECT

private:
    static QString chat(ProxyHarness &h) { return h.url(QStringLiteral("/v1/chat/completions")); }

private slots:
    void servesFromFirstEntry()
    {
        SimulatedProvider a;
        QVERIFY(a.listen());
        a.setReply(QStringLiteral("Hello there"));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/model-a")});
        QVERIFY(h.start());

        const QJsonObject extra{{QStringLiteral("temperature"), 0.25}, {QStringLiteral("seed"), 7}};
        const auto r = HttpClient::post(
            chat(h), HttpClient::chatBody(QStringLiteral("default"), false, QStringLiteral("Hi"), extra));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/model-a"));
        QCOMPARE(r.header("X-429chain-Attempts"), QByteArray("1"));
        const QJsonObject body = r.json();
        QCOMPARE(body.value(QLatin1String("choices"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QLatin1String("message"))
                     .toObject()
                     .value(QLatin1String("content"))
                     .toString(),
                 QStringLiteral("Hello there"));
        // The upstream got the entry's model, its own key, and the client's other fields untouched.
        const auto up = a.lastRequest();
        QCOMPARE(up.body.value(QLatin1String("model")).toString(), QStringLiteral("model-a"));
        QCOMPARE(up.header("Authorization"), QByteArray("Bearer sk-upstream-a"));
        QCOMPARE(up.body.value(QLatin1String("temperature")).toDouble(), 0.25);
        QCOMPARE(up.body.value(QLatin1String("seed")).toInt(), 7);
        QCOMPARE(up.header("Accept-Encoding"), QByteArray("identity"));
        QTRY_COMPARE(h.records.size(), 1);
        QCOMPARE(h.records.first().status, 200);
        QCOMPARE(h.records.first().provider, QStringLiteral("a"));
        QVERIFY(h.records.first().totalTokens > 0);
        QVERIFY(!h.records.first().tokensEstimated);
    }

    void tokensAreEstimatedWhenTheAnswerHasNoUsage()
    {
        SimulatedProvider a;
        QVERIFY(a.listen());
        a.setReportsUsage(false);
        a.setReply(QStringLiteral("exactly sixteen!")); // 16 characters
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        QVERIFY(h.start());
        QCOMPARE(HttpClient::post(
                     chat(h), HttpClient::chatBody(QStringLiteral("default"), false, QStringLiteral("abcd")))
                     .status,
                 200);
        QTRY_COMPARE(h.records.size(), 1);
        QVERIFY(h.records.first().tokensEstimated);
        QCOMPARE(h.records.first().completionTokens, 4);
        QCOMPARE(h.records.first().totalTokens, 5);
    }

    void unknownModelUsesDefaultChainAndChainNameSelects()
    {
        SimulatedProvider a, b;
        QVERIFY(a.listen() && b.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma")});
        h.addChain(QStringLiteral("other"), {QStringLiteral("b/mb")});
        QVERIFY(h.start());
        QCOMPARE(HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("gpt-4o"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("a/ma"));
        QCOMPARE(HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("other"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("b/mb"));
    }

    void waterfallsOn429AndSkipsWhileCooling()
    {
        SimulatedProvider a(SimulatedProvider::Dialect::Groq), b;
        QVERIFY(a.listen() && b.listen());
        a.enqueue(Step::rateLimited(30));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        QVERIFY(h.start());

        auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(r.header("X-429chain-Attempts"), QByteArray("2"));
        QCOMPARE(a.requestCount(), 1);

        // While cooling down, the entry is skipped without a request.
        h.clock().advance(20'000);
        r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(a.requestCount(), 1);
        QTRY_COMPARE(h.records.size(), 2);
        QCOMPARE(h.records.at(1).attempts.first().outcome, AttemptRecord::Outcome::Skipped);

        // After Retry-After (30 s) it serves again.
        h.clock().advance(11'000);
        r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/ma"));
        QCOMPARE(a.requestCount(), 2);
    }

    void waterfallsOnServerErrorAndTimeout()
    {
        SimulatedProvider broken, hanging, good;
        QVERIFY(broken.listen() && hanging.listen() && good.listen());
        broken.setDefaultStep(Step::status(500));
        hanging.setDefaultStep(Step::of(Step::Kind::Hang));
        ProxyHarness h;
        h.addProvider(QStringLiteral("broken"), &broken);
        h.addProvider(QStringLiteral("hanging"), &hanging);
        h.addProvider(QStringLiteral("good"), &good);
        h.config().providers[1].timeoutMs = 1000;
        h.addChain(QStringLiteral("default"),
                   {QStringLiteral("broken/m"), QStringLiteral("hanging/m"), QStringLiteral("good/m")});
        QVERIFY(h.start());

        const auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("good/m"));
        QCOMPARE(r.header("X-429chain-Attempts"), QByteArray("3"));
        QTRY_COMPARE(h.records.size(), 1);
        const auto &attempts = h.records.first().attempts;
        QCOMPARE(attempts.size(), 3);
        QCOMPARE(attempts.at(0).outcome, AttemptRecord::Outcome::ServerError);
        QCOMPARE(attempts.at(0).status, 500);
        QCOMPARE(attempts.at(1).outcome, AttemptRecord::Outcome::Timeout);
        QCOMPARE(attempts.at(2).outcome, AttemptRecord::Outcome::Success);
    }

    void connectionRefusedFailsOver()
    {
        SimulatedProvider good;
        QVERIFY(good.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("dead"), &good);
        h.config().providers[0].baseUrl = QStringLiteral("http://127.0.0.1:1/v1");
        h.addProvider(QStringLiteral("good"), &good);
        h.addChain(QStringLiteral("default"), {QStringLiteral("dead/m"), QStringLiteral("good/m")});
        QVERIFY(h.start());
        const auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("good/m"));
        QTRY_COMPARE(h.records.size(), 1);
        QCOMPARE(h.records.first().attempts.first().outcome, AttemptRecord::Outcome::NetworkError);
    }

    void allExhaustedIs429WithRetryAfter()
    {
        SimulatedProvider a(SimulatedProvider::Dialect::Cerebras), b(SimulatedProvider::Dialect::OpenRouter);
        QVERIFY(a.listen() && b.listen());
        a.setDefaultStep(Step::rateLimited(40));
        b.setDefaultStep(Step::rateLimited(20));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a, QStringLiteral("cerebras"));
        h.addProvider(QStringLiteral("b"), &b, QStringLiteral("openrouter"));
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        QVERIFY(h.start());

        const auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("20"));
        const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toString(), QStringLiteral("all_providers_exhausted"));
        const QString message = error.value(QLatin1String("message")).toString();
        QVERIFY2(message.contains(QLatin1String("a/ma")) && message.contains(QLatin1String("b/mb")),
                 qPrintable(message));
        QVERIFY(error.contains(QLatin1String("type")) && error.contains(QLatin1String("param")));
        // Nothing was served: the record claims no tokens, neither measured nor estimated.
        QTRY_COMPARE(h.records.size(), 1);
        QCOMPARE(h.records.last().status, 429);
        QCOMPARE(h.records.last().promptTokens, 0);
        QCOMPARE(h.records.last().completionTokens, 0);
        QCOMPARE(h.records.last().totalTokens, 0);
        QVERIFY(!h.records.last().tokensEstimated);

        // Next request: nothing is asked upstream, Retry-After counts down with the clock.
        h.clock().advance(5'000);
        const auto again = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(again.status, 429);
        QCOMPARE(again.header("Retry-After"), QByteArray("15"));
        QTRY_COMPARE(h.records.size(), 2);
        QCOMPARE(h.records.last().promptTokens, 0); // never reached an upstream
        QCOMPARE(h.records.last().totalTokens, 0);
        QCOMPARE(a.requestCount(), 1);
        QCOMPARE(b.requestCount(), 1);
    }

    void allServerErrorsIs502()
    {
        SimulatedProvider a;
        QVERIFY(a.listen());
        a.setDefaultStep(Step::status(503));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        QVERIFY(h.start());
        const auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 502);
        QCOMPARE(r.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
                 QStringLiteral("all_providers_exhausted"));
    }

    void clientErrorFromEveryEntryComesBack()
    {
        const QByteArray body =
            R"({"error":{"message":"Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})";
        SimulatedProvider a, b;
        QVERIFY(a.listen() && b.listen());
        a.setDefaultStep(Step::status(400, body));
        b.setDefaultStep(Step::status(422, R"({"error":{"message":"other"}})"));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m"), QStringLiteral("b/m")});
        QVERIFY(h.start());
        const auto r = HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
                 QStringLiteral("context_length_exceeded"));
        QCOMPARE(b.requestCount(), 1); // every entry was asked
        // No cooldown for a client error: the next request asks the first entry again.
        HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(a.requestCount(), 2);
    }

    void unauthorizedProviderCoolsDownAsMisconfigured()
    {
        SimulatedProvider a, b;
        QVERIFY(a.listen() && b.listen());
        a.setRequiredApiKey(QStringLiteral("the-right-key"));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m"), QStringLiteral("b/m")});
        QVERIFY(h.start());
        QCOMPARE(HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("b/m"));
        HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(a.requestCount(), 1);
        const auto cooldown = h.service().tracker().cooldown(QStringLiteral("a"), QStringLiteral("m"));
        QVERIFY(cooldown.has_value());
        QCOMPARE(cooldown->kind, RateLimitTracker::Kind::Misconfigured);
    }

    void providerQuirksReachUpstream()
    {
        SimulatedProvider cerebras, openrouter, google;
        QVERIFY(cerebras.listen() && openrouter.listen() && google.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("c"), &cerebras, QStringLiteral("cerebras"));
        h.addProvider(QStringLiteral("o"), &openrouter, QStringLiteral("openrouter"));
        h.addProvider(QStringLiteral("g"), &google, QStringLiteral("google-ai"));
        h.addChain(QStringLiteral("c"), {QStringLiteral("c/llama3.1-8b")});
        h.addChain(QStringLiteral("o"), {QStringLiteral("o/x:free")});
        h.addChain(QStringLiteral("g"), {QStringLiteral("g/gemma-3-27b-it")});
        QVERIFY(h.start());

        const QJsonObject extra{{QStringLiteral("presence_penalty"), 0.5},
                                {QStringLiteral("frequency_penalty"), 0.5},
                                {QStringLiteral("response_format"),
                                 QJsonObject{{QStringLiteral("type"), QStringLiteral("json_object")}}}};
        QCOMPARE(HttpClient::post(
                     chat(h), HttpClient::chatBody(QStringLiteral("c"), false, QStringLiteral("x"), extra))
                     .status,
                 200);
        QVERIFY(!cerebras.lastRequest().body.contains(QLatin1String("presence_penalty")));
        QVERIFY(!cerebras.lastRequest().body.contains(QLatin1String("frequency_penalty")));
        QVERIFY(cerebras.lastRequest().body.contains(QLatin1String("response_format")));

        QCOMPARE(HttpClient::post(chat(h), HttpClient::chatBody(QStringLiteral("o"), false)).status, 200);
        QCOMPARE(openrouter.lastRequest().header("HTTP-Referer"), QByteArray("429chain"));
        QCOMPARE(openrouter.lastRequest().header("X-Title"), QByteArray("429chain"));

        QJsonObject withSystem = extra;
        withSystem.insert(QStringLiteral("messages"),
                          QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                                 {QStringLiteral("content"), QStringLiteral("Be brief.")}},
                                     QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                 {QStringLiteral("content"), QStringLiteral("Hi")}}});
        withSystem.insert(QStringLiteral("model"), QStringLiteral("g"));
        QCOMPARE(HttpClient::post(chat(h), QJsonDocument(withSystem).toJson()).status, 200);
        const QJsonObject sent = google.lastRequest().body;
        QVERIFY(!sent.contains(QLatin1String("response_format")));
        const QJsonArray messages = sent.value(QLatin1String("messages")).toArray();
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().toObject().value(QLatin1String("content")).toString(),
                 QStringLiteral("Be brief.\n\nHi"));
    }

    void googleMergeKeepsMultimodalParts()
    {
        SimulatedProvider google;
        QVERIFY(google.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("g"), &google, QStringLiteral("google-ai"));
        h.addChain(QStringLiteral("g"), {QStringLiteral("g/gemma-3-27b-it")});
        QVERIFY(h.start());
        const QByteArray body =
            R"({"model":"g","messages":[{"role":"system","content":[{"type":"text","text":"Be brief."}]},
            {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]})";
        QCOMPARE(HttpClient::post(chat(h), body).status, 200);
        const QJsonArray messages = google.lastRequest().body.value(QLatin1String("messages")).toArray();
        QCOMPARE(messages.size(), 1);
        const QJsonArray parts = messages.first().toObject().value(QLatin1String("content")).toArray();
        QCOMPARE(parts.size(), 3);
        QCOMPARE(parts.at(0).toObject().value(QLatin1String("text")).toString(), QStringLiteral("Be brief."));
        QCOMPARE(parts.at(1).toObject().value(QLatin1String("text")).toString(),
                 QStringLiteral("What is this?"));
        QCOMPARE(parts.at(2).toObject().value(QLatin1String("type")).toString(), QStringLiteral("image_url"));
    }

    void modelsListsChainsFirst()
    {
        SimulatedProvider a;
        QVERIFY(a.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m1"), QStringLiteral("a/m2")});
        h.addChain(QStringLiteral("fast"), {QStringLiteral("a/m2")});
        QVERIFY(h.start());
        const auto r = HttpClient::get(h.url(QStringLiteral("/v1/models")));
        QCOMPARE(r.status, 200);
        QStringList ids;
        for (const auto &m : r.json().value(QLatin1String("data")).toArray())
            ids << m.toObject().value(QLatin1String("id")).toString();
        QCOMPARE(ids, (QStringList{QStringLiteral("default"), QStringLiteral("fast"), QStringLiteral("m1"),
                                   QStringLiteral("m2")}));
    }
};

QTEST_GUILESS_MAIN(TestChatCompletions)
#include "tst_chatcompletions.moc"
