// Integration: POST /v1/responses and GET /v1/models/{id} through the real server over simulated providers:
// whole and streamed answers, the waterfall (the first entry 429s, the second serves), a function-call round
// trip, a stream cut after its first token, and errors in OpenAI's shape.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using Step = SimulatedProvider::Step;

namespace {

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QJsonObject eventData(const HttpClient::StreamEvent &e)
{
    return QJsonDocument::fromJson(e.data).object();
}

QStringList eventNames(const HttpClient::StreamResponse &r)
{
    QStringList names;
    for (const auto &e : r.events) {
        if (!e.comment)
            names << QString::fromUtf8(e.event);
    }
    return names;
}

// The concatenated text of the message items of a Response object (what the SDK's output_text gives).
QString outputText(const QJsonObject &response)
{
    QString text;
    for (const auto &item : response.value(QLatin1String("output")).toArray()) {
        for (const auto &part : item.toObject().value(QLatin1String("content")).toArray()) {
            if (part.toObject().value(QLatin1String("type")).toString() == QLatin1String("output_text"))
                text += part.toObject().value(QLatin1String("text")).toString();
        }
    }
    return text;
}

const QJsonObject kWeatherTool{
    {QStringLiteral("type"), QStringLiteral("function")},
    {QStringLiteral("name"), QStringLiteral("get_weather")},
    {QStringLiteral("parameters"),
     QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                 {QStringLiteral("properties"),
                  QJsonObject{{QStringLiteral("city"),
                               QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}}}};

} // namespace

class TestResponses : public QObject
{
    Q_OBJECT

private:
    // Two providers a → b in chain "default".
    struct Pair
    {
        SimulatedProvider a;
        SimulatedProvider b;
        ProxyHarness h;
        Pair()
        {
            a.listen();
            b.listen();
            a.setReply(QStringLiteral("from a"));
            b.setReply(QStringLiteral("served by b"));
            h.addProvider(QStringLiteral("a"), &a);
            h.addProvider(QStringLiteral("b"), &b);
            h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        }
        QString url() const { return h.url(QStringLiteral("/v1/responses")); }
    };

    static QByteArray textRequest(bool stream, const QString &model = QStringLiteral("default"))
    {
        return json({{QStringLiteral("model"), model},
                     {QStringLiteral("input"), QStringLiteral("Say hello.")},
                     {QStringLiteral("instructions"), QStringLiteral("Be brief.")},
                     {QStringLiteral("store"), true},
                     {QStringLiteral("stream"), stream}});
    }

private slots:
    void wholeAnswer()
    {
        Pair p;
        QVERIFY(p.h.start());
        const auto r = HttpClient::post(p.url(), textRequest(false, QStringLiteral("gpt-4.1")));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/ma"));
        const QJsonObject body = r.json();
        QCOMPARE(body.value(QLatin1String("object")).toString(), QStringLiteral("response"));
        QCOMPARE(body.value(QLatin1String("status")).toString(), QStringLiteral("completed"));
        QCOMPARE(body.value(QLatin1String("model")).toString(), QStringLiteral("gpt-4.1"));
        QCOMPARE(body.value(QLatin1String("store")).toBool(true), false); // nothing was stored
        QCOMPARE(outputText(body), QStringLiteral("from a"));
        QVERIFY(body.value(QLatin1String("usage")).toObject().value(QLatin1String("input_tokens")).toInt() >
                0);
        // The upstream got a chat body: instructions as the system message, then the input.
        const QJsonArray messages = p.a.lastRequest().body.value(QLatin1String("messages")).toArray();
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(0).toObject().value(QLatin1String("role")).toString(), QStringLiteral("system"));
        QCOMPARE(messages.at(1).toObject().value(QLatin1String("content")).toString(),
                 QStringLiteral("Say hello."));
        QCOMPARE(p.a.lastRequest().body.value(QLatin1String("model")).toString(), QStringLiteral("ma"));
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().status, 200);
    }

    void streamedAnswer()
    {
        Pair p;
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(p.url(), textRequest(true));
        QCOMPARE(r.status, 200);
        const QStringList names = eventNames(r);
        QCOMPARE(names.first(), QStringLiteral("response.created"));
        QCOMPARE(names.at(1), QStringLiteral("response.in_progress"));
        QCOMPARE(names.last(), QStringLiteral("response.completed"));
        QVERIFY(names.contains(QStringLiteral("response.output_text.done")));
        QString text;
        for (const auto &e : r.events) {
            if (e.event == "response.output_text.delta")
                text += eventData(e).value(QLatin1String("delta")).toString();
        }
        QCOMPARE(text, QStringLiteral("from a"));
        const QJsonObject completed = eventData(r.events.last()).value(QLatin1String("response")).toObject();
        QCOMPARE(outputText(completed), QStringLiteral("from a"));
        QCOMPARE(completed.value(QLatin1String("model")).toString(), QStringLiteral("default"));
        QVERIFY(
            completed.value(QLatin1String("usage")).toObject().value(QLatin1String("output_tokens")).toInt() >
            0);
        QVERIFY(!r.sawDone()); // no chat [DONE] leaks into this protocol
    }

    void waterfall_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::newRow("whole") << false;
        QTest::newRow("streamed") << true;
    }

    void waterfall()
    {
        QFETCH(bool, stream);
        Pair p;
        p.a.enqueue(Step::rateLimited(30));
        QVERIFY(p.h.start());
        QString text;
        QByteArray attempts;
        if (stream) {
            const auto r = HttpClient::stream(p.url(), textRequest(true));
            QCOMPARE(r.status, 200);
            attempts = r.header("X-429chain-Attempts");
            QCOMPARE(eventNames(r).last(), QStringLiteral("response.completed"));
            text = outputText(eventData(r.events.last()).value(QLatin1String("response")).toObject());
        } else {
            const auto r = HttpClient::post(p.url(), textRequest(false));
            QCOMPARE(r.status, 200);
            attempts = r.header("X-429chain-Attempts");
            text = outputText(r.json());
        }
        QCOMPARE(text, QStringLiteral("served by b"));
        QCOMPARE(attempts, QByteArray("2"));
        QCOMPARE(p.a.requestCount(), 1);
        QCOMPARE(p.b.requestCount(), 1);
    }

    void streamCutBeforeFirstTokenFailsOver()
    {
        Pair p;
        p.a.enqueue(Step::of(Step::Kind::DropBeforeFirstToken));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(p.url(), textRequest(true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        const QStringList names = eventNames(r);
        QCOMPARE(names.count(QStringLiteral("response.created")), 1); // the client saw one response only
        QCOMPARE(names.last(), QStringLiteral("response.completed"));
        QCOMPARE(outputText(eventData(r.events.last()).value(QLatin1String("response")).toObject()),
                 QStringLiteral("served by b"));
    }

    void functionCallRoundTrip_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::newRow("whole") << false;
        QTest::newRow("streamed") << true;
    }

    void functionCallRoundTrip()
    {
        QFETCH(bool, stream);
        Pair p;
        p.a.enqueueToolCalls({{QStringLiteral("call_paris"), QStringLiteral("get_weather"),
                               QStringLiteral(R"({"city":"Paris"})")},
                              {QStringLiteral("call_rome"), QStringLiteral("get_weather"),
                               QStringLiteral(R"({"city":"Rome"})")}});
        p.a.setReply(QStringLiteral("Paris 14C, Rome 20C."));
        QVERIFY(p.h.start());
        const QJsonObject ask{{QStringLiteral("role"), QStringLiteral("user")},
                              {QStringLiteral("content"), QStringLiteral("Weather in Paris and Rome?")}};
        const QByteArray first = json(
            {{QStringLiteral("model"), QStringLiteral("default")},
             {QStringLiteral("input"), QJsonArray{ask}},
             {QStringLiteral("tools"),
              QJsonArray{kWeatherTool, QJsonObject{{QStringLiteral("type"), QStringLiteral("web_search")}}}},
             {QStringLiteral("stream"), stream}});
        QJsonArray output;
        if (stream) {
            const auto r = HttpClient::stream(p.url(), first);
            QCOMPARE(r.status, 200);
            const QStringList names = eventNames(r);
            QCOMPARE(names.count(QStringLiteral("response.output_item.added")), 2);
            QCOMPARE(names.count(QStringLiteral("response.function_call_arguments.done")), 2);
            QCOMPARE(names.last(), QStringLiteral("response.completed"));
            output = eventData(r.events.last())
                         .value(QLatin1String("response"))
                         .toObject()
                         .value(QLatin1String("output"))
                         .toArray();
        } else {
            const auto r = HttpClient::post(p.url(), first);
            QCOMPARE(r.status, 200);
            output = r.json().value(QLatin1String("output")).toArray();
        }
        QCOMPARE(output.size(), 2);
        const QJsonObject call = output.at(0).toObject();
        QCOMPARE(call.value(QLatin1String("type")).toString(), QStringLiteral("function_call"));
        QCOMPARE(call.value(QLatin1String("call_id")).toString(), QStringLiteral("call_paris"));
        QCOMPARE(call.value(QLatin1String("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(call.value(QLatin1String("arguments")).toString(), QStringLiteral(R"({"city":"Paris"})"));
        QCOMPARE(output.at(1).toObject().value(QLatin1String("call_id")).toString(),
                 QStringLiteral("call_rome"));
        // Only the function tool went upstream.
        QCOMPARE(p.a.lastRequest().body.value(QLatin1String("tools")).toArray().size(), 1);

        // The next turn echoes both calls (as the client got them, ids and status included) and their
        // outputs.
        QJsonArray input{ask, output.at(0), output.at(1)};
        input.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("function_call_output")},
                                 {QStringLiteral("call_id"), QStringLiteral("call_paris")},
                                 {QStringLiteral("output"), QStringLiteral("14C")}});
        input.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("function_call_output")},
                                 {QStringLiteral("call_id"), QStringLiteral("call_rome")},
                                 {QStringLiteral("output"), QStringLiteral("20C")}});
        const auto second =
            HttpClient::post(p.url(), json({{QStringLiteral("model"), QStringLiteral("default")},
                                            {QStringLiteral("input"), input},
                                            {QStringLiteral("tools"), QJsonArray{kWeatherTool}}}));
        QCOMPARE(second.status, 200);
        QCOMPARE(outputText(second.json()), QStringLiteral("Paris 14C, Rome 20C."));
        const QJsonArray messages = p.a.lastRequest().body.value(QLatin1String("messages")).toArray();
        QCOMPARE(messages.size(), 4);
        const QJsonObject assistant = messages.at(1).toObject();
        QCOMPARE(assistant.value(QLatin1String("role")).toString(), QStringLiteral("assistant"));
        QCOMPARE(assistant.value(QLatin1String("tool_calls")).toArray().size(), 2);
        QCOMPARE(messages.at(2).toObject().value(QLatin1String("tool_call_id")).toString(),
                 QStringLiteral("call_paris"));
        QCOMPARE(messages.at(3).toObject().value(QLatin1String("content")).toString(), QStringLiteral("20C"));
    }

    void streamCutAfterFirstTokenIsContinued()
    {
        Pair p;
        p.a.setReply(QStringLiteral("one two three four five"));
        p.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 2));
        p.b.setReply(QStringLiteral(" three four five"));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(p.url(), textRequest(true));
        QCOMPARE(r.status, 200);
        const QStringList names = eventNames(r);
        QCOMPARE(names.last(), QStringLiteral("response.completed"));
        QVERIFY(!names.contains(QStringLiteral("response.failed")));
        QCOMPARE(names.count(QStringLiteral("response.output_item.added")), 1); // one message, continued
        const QJsonObject done = eventData(r.events.last()).value(QLatin1String("response")).toObject();
        const QString text = done.value(QLatin1String("output"))
                                 .toArray()
                                 .at(0)
                                 .toObject()
                                 .value(QLatin1String("content"))
                                 .toArray()
                                 .at(0)
                                 .toObject()
                                 .value(QLatin1String("text"))
                                 .toString();
        QCOMPARE(text, QStringLiteral("one two three four five"));
        QCOMPARE(p.b.requestCount(), 1);
    }

    void streamCutAfterFirstTokenFails()
    {
        Pair p;
        p.a.setReply(QStringLiteral("one two three four five"));
        p.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 2));
        p.h.config().settings.midStreamContinue = false; // the honest ending, as without continuation
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(p.url(), textRequest(true));
        QCOMPARE(r.status, 200);
        const QStringList names = eventNames(r);
        QVERIFY(names.contains(QStringLiteral("response.output_text.delta")));
        QCOMPARE(names.last(), QStringLiteral("response.failed"));
        QVERIFY(!names.contains(QStringLiteral("response.completed")));
        const QJsonObject failed = eventData(r.events.last()).value(QLatin1String("response")).toObject();
        QCOMPARE(failed.value(QLatin1String("status")).toString(), QStringLiteral("failed"));
        QVERIFY(!failed.value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("message"))
                     .toString()
                     .isEmpty());
        QCOMPARE(p.b.requestCount(), 0); // committed, and continuation off: nobody else is asked
    }

    void errorsAreOpenAiShaped_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("previous_response_id")
            << QByteArray(R"({"model":"default","input":"hi","previous_response_id":"resp_1"})")
            << QByteArray(ProxyHarness::kApiKey) << 400 << QStringLiteral("invalid_request_error");
        QTest::newRow("bad json") << QByteArray("{") << QByteArray(ProxyHarness::kApiKey) << 400
                                  << QStringLiteral("invalid_request_error");
        QTest::newRow("no key") << QByteArray(R"({"input":"hi"})") << QByteArray("wrong") << 401
                                << QStringLiteral("invalid_request_error");
    }

    void errorsAreOpenAiShaped()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, key);
        QFETCH(int, status);
        QFETCH(QString, type);
        Pair p;
        p.h.config().settings.apiKeys = {QString::fromLatin1(ProxyHarness::kApiKey)};
        QVERIFY(p.h.start());
        const auto r = HttpClient::post(p.url(), body, {{"Authorization", "Bearer " + key}});
        QCOMPARE(r.status, status);
        const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("type")).toString(), type);
        QVERIFY(!error.value(QLatin1String("message")).toString().isEmpty());
        QCOMPARE(p.a.requestCount(), 0);
    }

    void everyEntryLimited()
    {
        Pair p;
        p.a.setDefaultStep(Step::rateLimited(40));
        p.b.setDefaultStep(Step::rateLimited(40));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(p.url(), textRequest(true));
        QCOMPARE(r.status, 429);
        QVERIFY(!r.header("Retry-After").isEmpty());
        QCOMPARE(r.json().value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("rate_limit_error"));
    }

    void modelLookup_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("id");
        QTest::newRow("chain") << QStringLiteral("default") << 200 << QStringLiteral("default");
        QTest::newRow("entry model") << QStringLiteral("mb") << 200 << QStringLiteral("mb");
        QTest::newRow("slash, encoded")
            << QStringLiteral("vendor%2Fm-free") << 200 << QStringLiteral("vendor/m-free");
        QTest::newRow("slash, raw") << QStringLiteral("vendor/m-free") << 200
                                    << QStringLiteral("vendor/m-free");
        QTest::newRow("unknown") << QStringLiteral("gpt-9") << 404 << QString();
    }

    void modelLookup()
    {
        QFETCH(QString, path);
        QFETCH(int, status);
        QFETCH(QString, id);
        Pair p;
        p.h.addChain(QStringLiteral("openrouter"), {QStringLiteral("b/vendor/m-free")});
        QVERIFY(p.h.start());
        const auto r = HttpClient::get(p.h.url(QStringLiteral("/v1/models/") + path));
        QCOMPARE(r.status, status);
        const QJsonObject body = r.json();
        if (status == 404) {
            QCOMPARE(body.value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
                     QStringLiteral("model_not_found"));
            return;
        }
        QCOMPARE(body.value(QLatin1String("id")).toString(), id);
        QCOMPARE(body.value(QLatin1String("object")).toString(), QStringLiteral("model"));
        QVERIFY(body.contains(QLatin1String("owned_by")));
        QVERIFY(body.value(QLatin1String("created")).toInteger() >= 0);
    }
};

QTEST_GUILESS_MAIN(TestResponses)
#include "tst_responses.moc"
