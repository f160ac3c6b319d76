// The Anthropic Messages adapter on its own: request bodies translated into the engine's format, and the
// engine's answers (whole, streamed, failed) written as Anthropic's, from recorded fixtures in
// tests/data/anthropic/ (shapes as Anthropic's Messages and streaming documentation show them).

#include "anthropicerror.h"
#include "anthropicrequest.h"
#include "anthropicsink.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

namespace {

QString dataDir(const QString &sub)
{
    return QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/anthropic/") + sub;
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QByteArray compact(const QJsonValue &v)
{
    if (v.isObject())
        return QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
    if (v.isArray())
        return QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    return v.toVariant().toByteArray();
}

// Generated ids ("msg_…", "toolu_…") become "msg_*" and "toolu_*", so fixtures can name them.
QJsonValue masked(const QJsonValue &value)
{
    if (value.isObject()) {
        QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == QLatin1String("id") && it.value().isString()) {
                const QString id = it.value().toString();
                if (id.startsWith(QLatin1String("msg_")))
                    it.value() = QStringLiteral("msg_*");
                else if (id.startsWith(QLatin1String("toolu_")))
                    it.value() = QStringLiteral("toolu_*");
            } else {
                it.value() = masked(it.value());
            }
        }
        return o;
    }
    if (value.isArray()) {
        QJsonArray a = value.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            a[i] = masked(a.at(i));
        return a;
    }
    return value;
}

ApiError::Kind kindFromName(const QString &name)
{
    static const QHash<QString, ApiError::Kind> kinds{
        {QStringLiteral("InvalidRequest"), ApiError::Kind::InvalidRequest},
        {QStringLiteral("Authentication"), ApiError::Kind::Authentication},
        {QStringLiteral("Permission"), ApiError::Kind::Permission},
        {QStringLiteral("NotFound"), ApiError::Kind::NotFound},
        {QStringLiteral("TooLarge"), ApiError::Kind::TooLarge},
        {QStringLiteral("RateLimit"), ApiError::Kind::RateLimit},
        {QStringLiteral("Timeout"), ApiError::Kind::Timeout},
        {QStringLiteral("Overloaded"), ApiError::Kind::Overloaded},
        {QStringLiteral("Server"), ApiError::Kind::Server},
    };
    return kinds.value(name, ApiError::Kind::Server);
}

ServedBy servedFrom(const QJsonObject &o)
{
    return ServedBy{o.value(QLatin1String("provider")).toString(), o.value(QLatin1String("model")).toString(),
                    o.value(QLatin1String("attempts")).toInteger()};
}

// A client connection that records what a sink writes to it.
class RecordingTransport : public ClientTransport
{
public:
    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return 0; }
    void sendWhole(int s, const QByteArray &b, const Headers &h, const QByteArray &type) override
    {
        ++answers;
        status = s;
        body = b;
        headers = h;
        contentType = type;
        ended = true;
    }
    void beginStream(int s, const Headers &h, const QByteArray &type) override
    {
        ++answers;
        status = s;
        headers = h;
        contentType = type;
    }
    void writeChunk(const QByteArray &data) override { body += data; }
    void endStream() override { ended = true; }

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return {};
    }
    bool hasHeader(const QByteArray &name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    }
    // The SSE events written: [event name, data JSON].
    QList<QPair<QString, QJsonObject>> events() const
    {
        QList<QPair<QString, QJsonObject>> list;
        for (const QByteArray &block : body.split('\n')) {
            if (block.startsWith("event: "))
                list.append({QString::fromUtf8(block.mid(7)), {}});
            else if (block.startsWith("data: ") && !list.isEmpty())
                list.last().second = QJsonDocument::fromJson(block.mid(6)).object();
        }
        return list;
    }

    int answers = 0;
    int status = 0;
    QByteArray body;
    Headers headers;
    QByteArray contentType;
    bool ended = false;
};

} // namespace

class TestAnthropicAdapter : public QObject
{
    Q_OBJECT

private:
    static void addFixtureRows(const QString &sub)
    {
        QTest::addColumn<QString>("path");
        const QDir dir(dataDir(sub));
        const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
        QVERIFY2(!files.isEmpty(), qPrintable(dir.path()));
        for (const QString &name : files) {
            if (name == QLatin1String("errors.json"))
                continue;
            QTest::newRow(qPrintable(name)) << dir.filePath(name);
        }
    }

private slots:
    void translatesRequests_data() { addFixtureRows(QStringLiteral("requests")); }
    void translatesRequests()
    {
        QFETCH(QString, path);
        const QJsonObject fixture = readJson(path);
        QVERIFY(!fixture.isEmpty());
        AnthropicRequest parsed;
        const auto error =
            AnthropicRequest::parse(compact(fixture.value(QLatin1String("anthropic"))), &parsed);
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        const QJsonObject expected = fixture.value(QLatin1String("openai")).toObject();
        QVERIFY2(parsed.request.body == expected,
                 qPrintable(QStringLiteral("\n got: %1\nwant: %2")
                                .arg(QString::fromUtf8(compact(parsed.request.body)),
                                     QString::fromUtf8(compact(expected)))));
        QCOMPARE(parsed.request.protocol, EngineRequest::Protocol::Messages);
        QCOMPARE(
            parsed.request.model,
            fixture.value(QLatin1String("anthropic")).toObject().value(QLatin1String("model")).toString());
        QCOMPARE(parsed.clientModel, parsed.request.model);
        QCOMPARE(parsed.request.stream, expected.value(QLatin1String("stream")).toBool());
        QCOMPARE(parsed.request.estimatedPromptTokens, EngineRequest::estimatePromptTokens(expected));
        QStringList dropped;
        for (const auto &d : fixture.value(QLatin1String("dropped")).toArray())
            dropped << d.toString();
        QCOMPARE(parsed.droppedTools, dropped);
    }

    void refusesBadRequests_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        const QJsonObject fixture = readJson(dataDir(QStringLiteral("requests/errors.json")));
        const QJsonArray cases = fixture.value(QLatin1String("cases")).toArray();
        QVERIFY(!cases.isEmpty());
        for (const auto &c : cases) {
            const QJsonObject o = c.toObject();
            const QByteArray body = o.contains(QLatin1String("raw"))
                                        ? o.value(QLatin1String("raw")).toString().toUtf8()
                                        : compact(o.value(QLatin1String("body")));
            QTest::newRow(qPrintable(o.value(QLatin1String("name")).toString()))
                << body << o.value(QLatin1String("message")).toString();
        }
    }
    void refusesBadRequests()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        AnthropicRequest parsed;
        const auto error = AnthropicRequest::parse(body, &parsed);
        QVERIFY(error);
        QCOMPARE(error->status, 400);
        QCOMPARE(error->kind, ApiError::Kind::InvalidRequest);
        QVERIFY2(error->message.contains(message), qPrintable(error->message));
        const QJsonObject shaped = QJsonDocument::fromJson(AnthropicError::json(*error)).object();
        QCOMPARE(shaped.value(QLatin1String("type")).toString(), QStringLiteral("error"));
        QCOMPARE(shaped.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("invalid_request_error"));
    }

    void countTokensNeedsNoMaxTokens()
    {
        const QByteArray body =
            R"({"model":"m","system":"be brief","messages":[{"role":"user","content":"abcdefgh"}],
                "tools":[{"name":"f","input_schema":{"type":"object"}}]})";
        AnthropicRequest messages;
        QVERIFY(AnthropicRequest::parse(body, &messages));
        AnthropicRequest counting;
        QVERIFY(!AnthropicRequest::parse(body, &counting, AnthropicRequest::Purpose::CountTokens));
        // System, messages and tools all count.
        QJsonObject withoutTools = counting.request.body;
        withoutTools.remove(QStringLiteral("tools"));
        QVERIFY(counting.request.estimatedPromptTokens > EngineRequest::estimatePromptTokens(withoutTools));
        QVERIFY(counting.request.estimatedPromptTokens > EngineRequest::estimateTokens(8));
    }

    void answersWhole_data() { addFixtureRows(QStringLiteral("answers")); }
    void answersWhole()
    {
        QFETCH(QString, path);
        const QJsonObject fixture = readJson(path);
        QStringList stops;
        for (const auto &s : fixture.value(QLatin1String("stop_sequences")).toArray())
            stops << s.toString();
        auto *transport = new RecordingTransport;
        AnthropicSink sink(transport, fixture.value(QLatin1String("model")).toString(),
                           fixture.value(QLatin1String("estimated_input")).toInteger(), stops);
        sink.whole(WholeAnswer{ServedBy{QStringLiteral("p"), QStringLiteral("m"), 1},
                               compact(fixture.value(QLatin1String("openai")))});
        QCOMPARE(transport->answers, 1);
        QCOMPARE(transport->status, 200);
        QCOMPARE(transport->header("X-429chain-Provider"), QByteArray("p/m"));
        const QJsonObject got = QJsonDocument::fromJson(transport->body).object();
        QVERIFY(got.value(QLatin1String("id")).toString().startsWith(QLatin1String("msg_")));
        const QJsonValue expected = fixture.value(QLatin1String("anthropic"));
        QVERIFY2(masked(got) == expected, qPrintable(QStringLiteral("\n got: %1\nwant: %2")
                                                         .arg(QString::fromUtf8(compact(masked(got))),
                                                              QString::fromUtf8(compact(expected)))));
    }

    void answersStreams_data() { addFixtureRows(QStringLiteral("streams")); }
    void answersStreams()
    {
        QFETCH(QString, path);
        const QJsonObject fixture = readJson(path);
        auto *transport = new RecordingTransport;
        AnthropicSink sink(transport, fixture.value(QLatin1String("model")).toString(),
                           fixture.value(QLatin1String("estimated_input")).toInteger());
        for (const auto &s : fixture.value(QLatin1String("steps")).toArray()) {
            const QJsonObject step = s.toObject();
            if (step.contains(QLatin1String("begin"))) {
                sink.begin(servedFrom(step.value(QLatin1String("begin")).toObject()));
            } else if (step.contains(QLatin1String("chunk"))) {
                const QByteArray data = compact(step.value(QLatin1String("chunk")));
                sink.chunk(StreamPiece(StreamPiece::Kind::Chunk, "data: " + data + "\n\n", data,
                                       step.value(QLatin1String("usageOnly")).toBool()));
            } else if (step.contains(QLatin1String("raw"))) { // a chunk's exact bytes (spacing, escapes)
                const QByteArray data = step.value(QLatin1String("raw")).toString().toUtf8();
                sink.chunk(StreamPiece(StreamPiece::Kind::Chunk, "data: " + data + "\n\n", data));
            } else if (step.contains(QLatin1String("keepalive"))) {
                sink.chunk(StreamPiece(StreamPiece::Kind::KeepAlive, ": keep-alive\n\n", {}));
            } else if (step.contains(QLatin1String("usage"))) {
                const QJsonObject u = step.value(QLatin1String("usage")).toObject();
                const qint64 prompt = u.value(QLatin1String("prompt")).toInteger();
                const qint64 completion = u.value(QLatin1String("completion")).toInteger();
                sink.usage(TokenUsage{prompt, completion, prompt + completion, false});
            } else if (step.contains(QLatin1String("done"))) {
                sink.done();
            } else if (step.contains(QLatin1String("fail"))) {
                const QJsonObject f = step.value(QLatin1String("fail")).toObject();
                ApiError error = ApiError::make(f.value(QLatin1String("status")).toInt(),
                                                kindFromName(f.value(QLatin1String("kind")).toString()),
                                                QString(), f.value(QLatin1String("message")).toString());
                error.retryAfterSeconds = f.value(QLatin1String("retryAfter")).toInteger(-1);
                sink.fail(EngineFailure{error, servedFrom(f.value(QLatin1String("served")).toObject()),
                                        f.value(QLatin1String("upstreamBody")).toString().toUtf8()});
            } else {
                QFAIL("unknown step");
            }
        }
        const QJsonObject expected = fixture.value(QLatin1String("expected")).toObject();
        QCOMPARE(transport->answers, 1);
        QCOMPARE(transport->status, expected.value(QLatin1String("status")).toInt());
        QVERIFY(transport->ended);
        const QJsonObject headers = expected.value(QLatin1String("headers")).toObject();
        for (auto it = headers.begin(); it != headers.end(); ++it) {
            if (it.value().isNull())
                QVERIFY2(!transport->hasHeader(it.key().toLatin1()), qPrintable(it.key()));
            else
                QCOMPARE(transport->header(it.key().toLatin1()), it.value().toString().toLatin1());
        }
        if (expected.contains(QLatin1String("whole"))) {
            QCOMPARE(transport->contentType, QByteArray("application/json"));
            QCOMPARE(QJsonDocument::fromJson(transport->body).object(),
                     expected.value(QLatin1String("whole")).toObject());
            return;
        }
        QCOMPARE(transport->contentType, QByteArray("text/event-stream"));
        QVERIFY2(transport->body.endsWith("\n\n"), transport->body.right(40).constData());
        const auto events = transport->events();
        const QJsonArray want = expected.value(QLatin1String("sse")).toArray();
        for (qsizetype i = 0; i < qMax(events.size(), want.size()); ++i) {
            const QString gotName = i < events.size() ? events.at(i).first : QStringLiteral("(none)");
            const QJsonValue gotData = i < events.size() ? masked(events.at(i).second) : QJsonValue();
            const QJsonArray w = want.at(i).toArray();
            const QString message = QStringLiteral("event %1:\n got: %2 %3\nwant: %4 %5")
                                        .arg(i)
                                        .arg(gotName, QString::fromUtf8(compact(gotData)), w.at(0).toString(),
                                             QString::fromUtf8(compact(w.at(1))));
            QVERIFY2(gotName == w.at(0).toString() && gotData == w.at(1), qPrintable(message));
        }
    }

    void errorTypesAndStatuses_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("type");
        QTest::newRow("invalid") << int(ApiError::Kind::InvalidRequest) << "invalid_request_error";
        QTest::newRow("auth") << int(ApiError::Kind::Authentication) << "authentication_error";
        QTest::newRow("permission") << int(ApiError::Kind::Permission) << "permission_error";
        QTest::newRow("not found") << int(ApiError::Kind::NotFound) << "not_found_error";
        QTest::newRow("too large") << int(ApiError::Kind::TooLarge) << "request_too_large";
        QTest::newRow("rate limit") << int(ApiError::Kind::RateLimit) << "rate_limit_error";
        QTest::newRow("overloaded") << int(ApiError::Kind::Overloaded) << "overloaded_error";
        QTest::newRow("timeout") << int(ApiError::Kind::Timeout) << "api_error";
        QTest::newRow("server") << int(ApiError::Kind::Server) << "api_error";
    }
    void errorTypesAndStatuses()
    {
        QFETCH(int, kind);
        QFETCH(QString, type);
        const ApiError error =
            ApiError::make(418, ApiError::Kind(kind), QStringLiteral("c"), QStringLiteral("msg \"q\""));
        const QJsonObject body = QJsonDocument::fromJson(AnthropicError::json(error)).object();
        QCOMPARE(body, (QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                                    {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), type},
                                                                          {QStringLiteral("message"),
                                                                           QStringLiteral("msg \"q\"")}}}}));
        QVERIFY(AnthropicError::sseEvent(error).startsWith("event: error\ndata: {"));
    }

    void toolInputRepairs_data()
    {
        QTest::addColumn<QString>("arguments");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<bool>("repaired");
        QTest::newRow("object") << "{\"a\":1}" << QByteArray("{\"a\":1}") << false;
        QTest::newRow("empty") << "" << QByteArray("{}") << false;
        QTest::newRow("spaces") << "  " << QByteArray("{}") << false;
        QTest::newRow("fenced") << "```json\n{\"a\":1}\n```" << QByteArray("{\"a\":1}") << true;
        QTest::newRow("double encoded") << "\"{\\\"a\\\":1}\"" << QByteArray("{\"a\":1}") << true;
        QTest::newRow("truncated") << "{\"a\":" << QByteArray("{}") << true;
        QTest::newRow("array") << "[1,2]" << QByteArray("{}") << true;
        QTest::newRow("number") << "3" << QByteArray("{}") << true;
        QTest::newRow("garbage") << "\xff\xfe{" << QByteArray("{}") << true;
    }
    void toolInputRepairs()
    {
        QFETCH(QString, arguments);
        QFETCH(QByteArray, input);
        QFETCH(bool, repaired);
        bool wasRepaired = !repaired;
        QCOMPARE(compact(AnthropicSink::toolInput(arguments, &wasRepaired)), input);
        QCOMPARE(wasRepaired, repaired);
    }
};

QTEST_GUILESS_MAIN(TestAnthropicAdapter)
#include "tst_anthropicadapter.moc"
