// Integration: POST /v1/messages and /v1/messages/count_tokens (Anthropic Messages) on a real loopback socket
// over simulated providers: whole and streamed answers, tool round trips, the waterfall, errors in
// Anthropic's shape on every path under /v1/messages, and the OpenAI paths untouched.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using Step = SimulatedProvider::Step;

namespace {

const HttpClient::Headers kAnthropicHeaders{
    {"x-api-key", ProxyHarness::kApiKey},
    {"anthropic-version", "2023-06-01"},
    {"anthropic-beta",
     "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"},
};

QByteArray messagesBody(bool stream, const QJsonArray &messages = {}, const QJsonObject &extra = {})
{
    QJsonObject body{
        {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-5-20250929")},
        {QStringLiteral("max_tokens"), 64000},
        {QStringLiteral("system"),
         QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                {QStringLiteral("text"), QStringLiteral("Be brief.")},
                                {QStringLiteral("cache_control"),
                                 QJsonObject{{QStringLiteral("type"), QStringLiteral("ephemeral")}}}}}},
        {QStringLiteral("messages"),
         messages.isEmpty() ? QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                     {QStringLiteral("content"), QStringLiteral("Hello")}}}
                            : messages},
        {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("user_id"), QStringLiteral("u")}}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QJsonObject errorOf(const HttpClient::Response &r)
{
    const QJsonObject body = r.json();
    if (body.value(QLatin1String("type")).toString() != QLatin1String("error"))
        return {};
    return body.value(QLatin1String("error")).toObject();
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

QJsonObject dataOf(const HttpClient::StreamEvent &e)
{
    return QJsonDocument::fromJson(e.data).object();
}

// The text of every text_delta, and the partial_json of every input_json_delta, of a stream.
QString streamedText(const HttpClient::StreamResponse &r, const char *deltaType, const char *field)
{
    QString text;
    for (const auto &e : r.events) {
        const QJsonObject delta = dataOf(e).value(QLatin1String("delta")).toObject();
        if (e.event == "content_block_delta" &&
            delta.value(QLatin1String("type")).toString() == QLatin1String(deltaType))
            text += delta.value(QLatin1String(field)).toString();
    }
    return text;
}

} // namespace

class TestMessages : public QObject
{
    Q_OBJECT

private:
    static QString messages(ProxyHarness &h) { return h.url(QStringLiteral("/v1/messages?beta=true")); }

    static bool oneEntry(ProxyHarness &h, SimulatedProvider &a)
    {
        if (!a.listen())
            return false;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/model-a")});
        return h.start();
    }

private slots:
    void wholeAnswer()
    {
        SimulatedProvider a;
        a.setReply(QStringLiteral("Hello there"));
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        const auto r = HttpClient::post(messages(h), messagesBody(false), kAnthropicHeaders);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/model-a"));
        const QJsonObject body = r.json();
        QVERIFY(body.value(QLatin1String("id")).toString().startsWith(QLatin1String("msg_")));
        QCOMPARE(body.value(QLatin1String("type")).toString(), QStringLiteral("message"));
        QCOMPARE(body.value(QLatin1String("role")).toString(), QStringLiteral("assistant"));
        QCOMPARE(body.value(QLatin1String("model")).toString(), QStringLiteral("claude-sonnet-4-5-20250929"));
        QCOMPARE(body.value(QLatin1String("stop_reason")).toString(), QStringLiteral("end_turn"));
        const QJsonArray content = body.value(QLatin1String("content")).toArray();
        QCOMPARE(content.size(), 1);
        QCOMPARE(content.first().toObject().value(QLatin1String("text")).toString(),
                 QStringLiteral("Hello there"));
        const QJsonObject usage = body.value(QLatin1String("usage")).toObject();
        QVERIFY(usage.value(QLatin1String("input_tokens")).toInt() > 0);
        QCOMPARE(usage.value(QLatin1String("output_tokens")).toInt(), 2); // the simulator counts words
        // The upstream got an OpenAI chat body: the entry's model, a system message, max_tokens.
        const QJsonObject up = a.lastRequest().body;
        QCOMPARE(up.value(QLatin1String("model")).toString(), QStringLiteral("model-a"));
        // max_tokens reaches it, lowered to what the entry's provider type gives (groq: 8192).
        QCOMPARE(up.value(QLatin1String("max_tokens")).toInt(), 8192);
        const QJsonArray sent = up.value(QLatin1String("messages")).toArray();
        QCOMPARE(sent.size(), 2);
        QCOMPARE(sent.at(0).toObject().value(QLatin1String("role")).toString(), QStringLiteral("system"));
        QCOMPARE(sent.at(0).toObject().value(QLatin1String("content")).toString(),
                 QStringLiteral("Be brief."));
        QVERIFY(!up.contains(QLatin1String("metadata")));
        QTRY_COMPARE(h.records.size(), 1);
        QCOMPARE(h.records.first().status, 200);
    }

    void bearerKeyWorksToo()
    {
        SimulatedProvider a;
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        QCOMPARE(HttpClient::post(h.url(QStringLiteral("/v1/messages")), messagesBody(false)).status, 200);
    }

    void streamedAnswer()
    {
        SimulatedProvider a;
        a.setReply(QStringLiteral("One two three"));
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        const auto r = HttpClient::stream(messages(h), messagesBody(true), kAnthropicHeaders);
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Type").startsWith("text/event-stream"));
        const QStringList names = eventNames(r);
        QCOMPARE(names.first(), QStringLiteral("message_start"));
        QCOMPARE(names.at(1), QStringLiteral("content_block_start"));
        QCOMPARE(names.mid(names.size() - 3),
                 (QStringList{QStringLiteral("content_block_stop"), QStringLiteral("message_delta"),
                              QStringLiteral("message_stop")}));
        QCOMPARE(names.count(QStringLiteral("content_block_delta")), 3);
        QCOMPARE(streamedText(r, "text_delta", "text"), QStringLiteral("One two three"));
        const QJsonObject start = dataOf(r.events.first()).value(QLatin1String("message")).toObject();
        QCOMPARE(start.value(QLatin1String("model")).toString(),
                 QStringLiteral("claude-sonnet-4-5-20250929"));
        QVERIFY(start.value(QLatin1String("usage")).toObject().value(QLatin1String("input_tokens")).toInt() >
                0);
        const QJsonObject delta = dataOf(r.events.at(r.events.size() - 2));
        QCOMPARE(
            delta.value(QLatin1String("delta")).toObject().value(QLatin1String("stop_reason")).toString(),
            QStringLiteral("end_turn"));
        QCOMPARE(delta.value(QLatin1String("usage")).toObject().value(QLatin1String("output_tokens")).toInt(),
                 3);
        QVERIFY(!r.sawDone()); // no OpenAI [DONE] in an Anthropic stream
    }

    void waterfallsWholeAndStreamed_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::addColumn<int>("firstAnswer"); // what the first entry does
        QTest::newRow("429, whole") << false << int(Step::Kind::RateLimited);
        QTest::newRow("429, streamed") << true << int(Step::Kind::RateLimited);
        QTest::newRow("cut before the first token, streamed")
            << true << int(Step::Kind::DropBeforeFirstToken);
    }
    void waterfallsWholeAndStreamed()
    {
        QFETCH(bool, stream);
        QFETCH(int, firstAnswer);
        SimulatedProvider a, b;
        QVERIFY(a.listen() && b.listen());
        a.enqueue(Step::Kind(firstAnswer) == Step::Kind::RateLimited ? Step::rateLimited(30)
                                                                     : Step::of(Step::Kind(firstAnswer)));
        b.setReply(QStringLiteral("from b"));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        QVERIFY(h.start());
        QString text;
        HttpClient::Response response;
        if (stream) {
            const auto r = HttpClient::stream(messages(h), messagesBody(true), kAnthropicHeaders);
            response = r;
            text = streamedText(r, "text_delta", "text");
            QCOMPARE(eventNames(r).last(), QStringLiteral("message_stop"));
        } else {
            response = HttpClient::post(messages(h), messagesBody(false), kAnthropicHeaders);
            text = response.json()
                       .value(QLatin1String("content"))
                       .toArray()
                       .first()
                       .toObject()
                       .value(QLatin1String("text"))
                       .toString();
        }
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(response.header("X-429chain-Attempts"), QByteArray("2"));
        QCOMPARE(text, QStringLiteral("from b"));
        QCOMPARE(a.requestCount(), 1);
        QCOMPARE(b.requestCount(), 1);
    }

    void toolRoundTrip_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::newRow("whole") << false;
        QTest::newRow("streamed") << true;
    }
    void toolRoundTrip()
    {
        QFETCH(bool, stream);
        SimulatedProvider a;
        a.setReply(QStringLiteral("It is sunny."));
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        a.enqueue(Step::callTools({{QStringLiteral("get_weather"), QStringLiteral(R"({"location":"Paris"})")},
                                   {QStringLiteral("get_time"), QStringLiteral(R"({"tz":"CET"})")}},
                                  QStringLiteral("Let me check.")));
        const QJsonObject tools{
            {QStringLiteral("tools"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                                    {QStringLiteral("input_schema"),
                                     QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}},
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("get_time")},
                                    {QStringLiteral("input_schema"),
                                     QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}},
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("web_search_20250305")},
                                    {QStringLiteral("name"), QStringLiteral("web_search")}}}}};
        const QJsonObject question{{QStringLiteral("role"), QStringLiteral("user")},
                                   {QStringLiteral("content"), QStringLiteral("Weather and time in Paris?")}};

        // Turn 1: the model asks for two tools.
        QJsonArray assistantContent;
        QString stopReason;
        if (stream) {
            const auto r =
                HttpClient::stream(messages(h), messagesBody(true, {question}, tools), kAnthropicHeaders);
            QCOMPARE(r.status, 200);
            QList<QJsonObject> blocks;
            for (const auto &e : r.events) {
                const QJsonObject d = dataOf(e);
                if (e.event == "content_block_start")
                    blocks << d.value(QLatin1String("content_block")).toObject();
                if (e.event == "message_delta")
                    stopReason = d.value(QLatin1String("delta"))
                                     .toObject()
                                     .value(QLatin1String("stop_reason"))
                                     .toString();
            }
            QCOMPARE(blocks.size(), 3);
            QCOMPARE(blocks.at(0).value(QLatin1String("type")).toString(), QStringLiteral("text"));
            QCOMPARE(streamedText(r, "text_delta", "text"), QStringLiteral("Let me check."));
            // Each tool block's partial_json, joined, is its input.
            QStringList partials(3);
            for (const auto &e : r.events) {
                const QJsonObject d = dataOf(e);
                if (e.event == "content_block_delta")
                    partials[d.value(QLatin1String("index")).toInt()] +=
                        d.value(QLatin1String("delta"))
                            .toObject()
                            .value(QLatin1String("partial_json"))
                            .toString();
            }
            assistantContent.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                {QStringLiteral("text"), QStringLiteral("Let me check.")}});
            for (int i = 1; i < 3; ++i) {
                QJsonObject block = blocks.at(i);
                QCOMPARE(block.value(QLatin1String("type")).toString(), QStringLiteral("tool_use"));
                block.insert(QStringLiteral("input"),
                             QJsonDocument::fromJson(partials.at(i).toUtf8()).object());
                assistantContent.append(block);
            }
        } else {
            const auto r =
                HttpClient::post(messages(h), messagesBody(false, {question}, tools), kAnthropicHeaders);
            QCOMPARE(r.status, 200);
            assistantContent = r.json().value(QLatin1String("content")).toArray();
            stopReason = r.json().value(QLatin1String("stop_reason")).toString();
        }
        QCOMPARE(stopReason, QStringLiteral("tool_use"));
        QCOMPARE(assistantContent.size(), 3);
        const QJsonObject weather = assistantContent.at(1).toObject();
        const QJsonObject time = assistantContent.at(2).toObject();
        QCOMPARE(weather.value(QLatin1String("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(weather.value(QLatin1String("input")).toObject(),
                 (QJsonObject{{QStringLiteral("location"), QStringLiteral("Paris")}}));
        QCOMPARE(time.value(QLatin1String("input")).toObject(),
                 (QJsonObject{{QStringLiteral("tz"), QStringLiteral("CET")}}));
        // The server tool never reached the upstream; the function tools did.
        const QJsonArray upTools = a.lastRequest().body.value(QLatin1String("tools")).toArray();
        QCOMPARE(upTools.size(), 2);

        // Turn 2: the client answers both tool calls; the upstream gets tool messages matched by id.
        const QJsonArray history{
            question,
            QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                        {QStringLiteral("content"), assistantContent}},
            QJsonObject{
                {QStringLiteral("role"), QStringLiteral("user")},
                {QStringLiteral("content"),
                 QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                        {QStringLiteral("tool_use_id"), weather.value(QLatin1String("id"))},
                                        {QStringLiteral("content"), QStringLiteral("sunny")}},
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                        {QStringLiteral("tool_use_id"), time.value(QLatin1String("id"))},
                                        {QStringLiteral("content"), QStringLiteral("12:00")}}}}}};
        const auto r2 = HttpClient::post(messages(h), messagesBody(false, history, tools), kAnthropicHeaders);
        QCOMPARE(r2.status, 200);
        QCOMPARE(r2.json().value(QLatin1String("stop_reason")).toString(), QStringLiteral("end_turn"));
        const QJsonArray sent = a.lastRequest().body.value(QLatin1String("messages")).toArray();
        QCOMPARE(sent.size(), 5); // system, user, assistant with tool_calls, two tool messages
        const QJsonObject asked = sent.at(2).toObject();
        QCOMPARE(asked.value(QLatin1String("tool_calls")).toArray().size(), 2);
        QCOMPARE(
            asked.value(QLatin1String("tool_calls")).toArray().first().toObject().value(QLatin1String("id")),
            weather.value(QLatin1String("id")));
        QCOMPARE(sent.at(3).toObject().value(QLatin1String("role")).toString(), QStringLiteral("tool"));
        QCOMPARE(sent.at(3).toObject().value(QLatin1String("tool_call_id")),
                 weather.value(QLatin1String("id")));
        QCOMPARE(sent.at(3).toObject().value(QLatin1String("content")).toString(), QStringLiteral("sunny"));
        QCOMPARE(sent.at(4).toObject().value(QLatin1String("tool_call_id")), time.value(QLatin1String("id")));
    }

    void streamCutAfterCommitEndsWithAnError()
    {
        SimulatedProvider a;
        a.setReply(QStringLiteral("a b c d e f"));
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        a.enqueue(Step::of(Step::Kind::DropAfterTokens, 2));
        const auto r = HttpClient::stream(messages(h), messagesBody(true), kAnthropicHeaders);
        QCOMPARE(r.status, 200);
        const QStringList names = eventNames(r);
        QCOMPARE(names.last(), QStringLiteral("error"));
        QVERIFY(!names.contains(QStringLiteral("message_stop")));
        QVERIFY(!names.contains(QStringLiteral("message_delta")));
        const QJsonObject error = dataOf(r.events.last());
        QCOMPARE(error.value(QLatin1String("type")).toString(), QStringLiteral("error"));
        QCOMPARE(error.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("api_error"));
        QVERIFY(!error.value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("message"))
                     .toString()
                     .isEmpty());
    }

    void errorsAreAnthropicShaped()
    {
        SimulatedProvider a;
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        auto expect = [](const HttpClient::Response &r, int status, const char *type) {
            QCOMPARE(r.status, status);
            const QJsonObject error = errorOf(r);
            QVERIFY2(error.value(QLatin1String("type")).toString() == QLatin1String(type),
                     r.body.constData());
            QVERIFY(!error.value(QLatin1String("message")).toString().isEmpty());
        };
        expect(HttpClient::post(messages(h), messagesBody(false), {{"x-api-key", ""}, {"Authorization", ""}}),
               401, "authentication_error");
        expect(HttpClient::post(messages(h), messagesBody(false), {{"x-api-key", "wrong"}}), 401,
               "authentication_error");
        expect(HttpClient::post(h.url(QStringLiteral("/v1/messages/count_tokens")), "{}",
                                {{"x-api-key", "wrong"}}),
               401, "authentication_error");
        expect(HttpClient::post(h.url(QStringLiteral("/v1/messages/batches")), "{}", kAnthropicHeaders), 404,
               "not_found_error");
        expect(HttpClient::get(h.url(QStringLiteral("/v1/messages")), kAnthropicHeaders), 405,
               "invalid_request_error");
        expect(HttpClient::post(messages(h), "{not json", kAnthropicHeaders), 400, "invalid_request_error");
        const auto missing = HttpClient::post(
            messages(h), R"({"model":"m","messages":[{"role":"user","content":"x"}]})", kAnthropicHeaders);
        expect(missing, 400, "invalid_request_error");
        QVERIFY(errorOf(missing)
                    .value(QLatin1String("message"))
                    .toString()
                    .contains(QLatin1String("max_tokens")));
        QCOMPARE(a.requestCount(), 0);
        // The OpenAI paths keep OpenAI's shape.
        const auto openai = HttpClient::get(h.url(QStringLiteral("/v1/nope")));
        QCOMPARE(openai.status, 404);
        QVERIFY(openai.json().value(QLatin1String("error")).toObject().contains(QLatin1String("code")));
        QVERIFY(!openai.json().contains(QLatin1String("type")));
    }

    void everyEntryRateLimitedIs429WithRetryAfter()
    {
        SimulatedProvider a;
        a.setDefaultStep(Step::rateLimited(30));
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        const auto r = HttpClient::post(messages(h), messagesBody(false), kAnthropicHeaders);
        QCOMPARE(r.status, 429);
        QCOMPARE(errorOf(r).value(QLatin1String("type")).toString(), QStringLiteral("rate_limit_error"));
        QVERIFY(r.header("Retry-After").toInt() > 0);
    }

    void upstreamRefusalIsTranslated()
    {
        SimulatedProvider a;
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        a.enqueue(Step::status(
            400,
            R"({"error":{"message":"tools[0] is invalid","type":"invalid_request_error","param":null,"code":null}})"));
        const auto r = HttpClient::post(messages(h), messagesBody(false), kAnthropicHeaders);
        QCOMPARE(r.status, 400);
        const QJsonObject error = errorOf(r);
        QCOMPARE(error.value(QLatin1String("type")).toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(error.value(QLatin1String("message")).toString(), QStringLiteral("tools[0] is invalid"));
    }

    void pausedIsOverloaded()
    {
        SimulatedProvider a;
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        h.service().setPaused(true);
        const auto r = HttpClient::post(messages(h), messagesBody(false), kAnthropicHeaders);
        QCOMPARE(r.status, 503);
        QCOMPARE(errorOf(r).value(QLatin1String("type")).toString(), QStringLiteral("overloaded_error"));
    }

    void oversizedBodyIs413InAnthropicShape()
    {
        SimulatedProvider a;
        ProxyHarness h;
        h.config().settings.maxRequestBytes = 4096;
        QVERIFY(oneEntry(h, a));
        const QJsonArray big{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                         {QStringLiteral("content"), QString(8000, QLatin1Char('x'))}}};
        const auto r = HttpClient::post(messages(h), messagesBody(false, big), kAnthropicHeaders);
        QCOMPARE(r.status, 413);
        QCOMPARE(errorOf(r).value(QLatin1String("type")).toString(), QStringLiteral("request_too_large"));
        // The OpenAI route keeps OpenAI's shape for the same refusal.
        const auto openai = HttpClient::post(
            h.url(QStringLiteral("/v1/chat/completions")),
            HttpClient::chatBody(QStringLiteral("default"), false, QString(8000, QLatin1Char('x'))));
        QCOMPARE(openai.status, 413);
        QCOMPARE(
            openai.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
            QStringLiteral("request_too_large"));
        QCOMPARE(a.requestCount(), 0);
    }

    void countTokens()
    {
        SimulatedProvider a;
        ProxyHarness h;
        QVERIFY(oneEntry(h, a));
        const QByteArray body =
            R"({"model":"claude-haiku-4-5","system":"You are a helpful assistant.","messages":[{"role":"user","content":"Hello, how are you today?"}],
                "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}]})";
        const auto r = HttpClient::post(h.url(QStringLiteral("/v1/messages/count_tokens?beta=true")), body,
                                        kAnthropicHeaders);
        QCOMPARE(r.status, 200);
        const qint64 tokens = r.json().value(QLatin1String("input_tokens")).toInteger();
        QVERIFY(tokens > 10); // system, message and tool all count
        QCOMPARE(r.json().size(), 1);
        QCOMPARE(a.requestCount(), 0);
        const auto bad = HttpClient::post(h.url(QStringLiteral("/v1/messages/count_tokens")),
                                          R"({"model":"m"})", kAnthropicHeaders);
        QCOMPARE(bad.status, 400);
        QCOMPARE(errorOf(bad).value(QLatin1String("type")).toString(),
                 QStringLiteral("invalid_request_error"));
    }

    void headRootAnswersWithoutAKey()
    {
        SimulatedProvider a;
        ProxyHarness h;
        h.config().settings.apiKeys = {QString::fromLatin1(ProxyHarness::kApiKey)};
        QVERIFY(oneEntry(h, a));
        const QByteArray reply =
            HttpClient::raw(h.port(), "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        QVERIFY2(reply.startsWith("HTTP/1.1 200"), reply.left(80).constData());
    }
};

QTEST_GUILESS_MAIN(TestMessages)
#include "tst_messages.moc"
