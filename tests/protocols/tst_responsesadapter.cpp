// The OpenAI Responses adapter on its own, over recorded fixtures (tests/data/responses/): each request
// fixture is a Responses body and the chat body it must become (or the 400 it must get); each answer fixture
// is what the engine tells the sink (a whole chat answer, stream chunks, a failure) and what the client must
// read (the Response object, the event names in order, the error). A fake transport records the bytes.

#include "clienttransport.h"
#include "enginesink.h"
#include "openaierror.h"
#include "responsesrequest.h"
#include "responsessink.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

namespace {

// What a protocol sink wrote to its client.
class RecordingTransport : public ClientTransport
{
public:
    int status = 0;
    Headers headers;
    QByteArray body; // a whole answer's body, or the stream's bytes
    bool streamed = false;
    bool ended = false;

    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return 0; }
    void sendWhole(int s, const QByteArray &b, const Headers &h, const QByteArray &) override
    {
        status = s;
        body = b;
        headers = h;
        ended = true;
    }
    void beginStream(int s, const Headers &h, const QByteArray &) override
    {
        status = s;
        headers = h;
        streamed = true;
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
};

struct SseEvent
{
    QString name;
    QJsonObject data;
};

QList<SseEvent> parseSse(const QByteArray &bytes)
{
    QList<SseEvent> events;
    for (const QByteArray &block : bytes.split('\n')) {
        if (block.startsWith("event: ")) {
            events.append({QString::fromUtf8(block.mid(7)), {}});
        } else if (block.startsWith("data: ")) {
            if (events.isEmpty() || !events.last().data.isEmpty())
                events.append({QString(), {}});
            events.last().data = QJsonDocument::fromJson(block.mid(6)).object();
        }
    }
    return events;
}

QString dataDir()
{
    return QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/responses/");
}

QJsonObject readFixture(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// Every key of `expected` is in `actual` with the same value; arrays match element by element, objects
// recursively (so a fixture names what matters and leaves out the random ids).
bool contains(const QJsonValue &actual, const QJsonValue &expected, const QString &where, QString *why)
{
    if (expected.isObject()) {
        const QJsonObject e = expected.toObject();
        const QJsonObject a = actual.toObject();
        if (!actual.isObject()) {
            *why = where + QStringLiteral(": not an object");
            return false;
        }
        for (auto it = e.begin(); it != e.end(); ++it) {
            if (!a.contains(it.key())) {
                *why = where + QLatin1Char('.') + it.key() + QStringLiteral(": missing");
                return false;
            }
            if (!contains(a.value(it.key()), it.value(), where + QLatin1Char('.') + it.key(), why))
                return false;
        }
        return true;
    }
    if (expected.isArray()) {
        const QJsonArray e = expected.toArray();
        const QJsonArray a = actual.toArray();
        if (!actual.isArray() || a.size() != e.size()) {
            *why = where + QStringLiteral(": %1 elements, expected %2").arg(a.size()).arg(e.size());
            return false;
        }
        for (qsizetype i = 0; i < e.size(); ++i) {
            if (!contains(a.at(i), e.at(i), where + QStringLiteral("[%1]").arg(i), why))
                return false;
        }
        return true;
    }
    if (actual != expected) {
        *why = where + QStringLiteral(": ") +
               QString::fromUtf8(QJsonDocument(QJsonArray{actual}).toJson(QJsonDocument::Compact)) +
               QStringLiteral(" != ") +
               QString::fromUtf8(QJsonDocument(QJsonArray{expected}).toJson(QJsonDocument::Compact));
        return false;
    }
    return true;
}

ApiError::Kind kindOf(const QString &name)
{
    if (name == QLatin1String("rate_limit"))
        return ApiError::Kind::RateLimit;
    return ApiError::Kind::Server;
}

const QJsonObject kEcho{{QStringLiteral("model"), QStringLiteral("gpt-4.1")},
                        {QStringLiteral("tools"), QJsonArray{}},
                        {QStringLiteral("tool_choice"), QStringLiteral("auto")},
                        {QStringLiteral("parallel_tool_calls"), true}};

} // namespace

class TestResponsesAdapter : public QObject
{
    Q_OBJECT

private slots:
    void translatesRequests_data()
    {
        QTest::addColumn<QString>("path");
        const QStringList files =
            QDir(dataDir() + QStringLiteral("requests")).entryList({QStringLiteral("*.json")}, QDir::Files);
        QVERIFY(files.size() >= 10);
        for (const QString &f : files)
            QTest::newRow(qPrintable(f)) << dataDir() + QStringLiteral("requests/") + f;
    }

    void translatesRequests()
    {
        QFETCH(QString, path);
        const QJsonObject fixture = readFixture(path);
        QVERIFY2(!fixture.isEmpty(), qPrintable(path));
        const QByteArray body =
            QJsonDocument(fixture.value(QLatin1String("request")).toObject()).toJson(QJsonDocument::Compact);
        ResponsesRequest parsed;
        const auto error = ResponsesRequest::parse(body, &parsed);
        if (fixture.contains(QLatin1String("error"))) {
            QVERIFY2(error, "the request must be refused");
            const QJsonObject expected = fixture.value(QLatin1String("error")).toObject();
            QCOMPARE(error->status, expected.value(QLatin1String("status")).toInt());
            QCOMPARE(error->param, expected.value(QLatin1String("param")).toString());
            QVERIFY(!error->message.isEmpty());
            const QJsonObject json = QJsonDocument::fromJson(OpenAiError::json(*error)).object();
            QCOMPARE(json.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                     QStringLiteral("invalid_request_error"));
            return;
        }
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        const QJsonObject expected = fixture.value(QLatin1String("chat")).toObject();
        if (parsed.request.body != expected) {
            qWarning().noquote() << "got:     "
                                 << QJsonDocument(parsed.request.body).toJson(QJsonDocument::Compact);
            qWarning().noquote() << "expected:" << QJsonDocument(expected).toJson(QJsonDocument::Compact);
        }
        QCOMPARE(parsed.request.body, expected);
        QCOMPARE(parsed.request.protocol, EngineRequest::Protocol::Responses);
        QCOMPARE(parsed.request.operation, EngineRequest::Operation::Chat);
        QCOMPARE(parsed.request.stream, expected.value(QLatin1String("stream")).toBool());
        QCOMPARE(parsed.request.model, expected.value(QLatin1String("model")).toString());
        QVERIFY(parsed.request.estimatedPromptTokens > 0);
        QCOMPARE(parsed.echo.value(QLatin1String("model")).toString(),
                 expected.value(QLatin1String("model")).toString());
    }

    void echoesWhatTheResponseRepeats()
    {
        const QJsonObject fixture =
            readFixture(dataDir() + QStringLiteral("requests/codex-tool-round-trip.json"));
        ResponsesRequest parsed;
        QVERIFY(!ResponsesRequest::parse(
            QJsonDocument(fixture.value(QLatin1String("request")).toObject()).toJson(), &parsed));
        // Only the function tool is echoed (the dropped ones were not offered to the model).
        const QJsonArray tools = parsed.echo.value(QLatin1String("tools")).toArray();
        QCOMPARE(tools.size(), 1);
        QCOMPARE(tools.first().toObject().value(QLatin1String("name")).toString(),
                 QStringLiteral("exec_command"));
        QCOMPARE(parsed.echo.value(QLatin1String("parallel_tool_calls")).toBool(true), false);
    }

    void answers_data()
    {
        QTest::addColumn<QString>("path");
        const QStringList files =
            QDir(dataDir() + QStringLiteral("answers")).entryList({QStringLiteral("*.json")}, QDir::Files);
        QVERIFY(files.size() >= 10);
        for (const QString &f : files)
            QTest::newRow(qPrintable(f)) << dataDir() + QStringLiteral("answers/") + f;
    }

    void answers()
    {
        QFETCH(QString, path);
        const QJsonObject fixture = readFixture(path);
        QVERIFY2(!fixture.isEmpty(), qPrintable(path));
        const QJsonObject expect = fixture.value(QLatin1String("expect")).toObject();
        auto *transport = new RecordingTransport;
        ResponsesSink sink(transport, kEcho, 7);
        const ServedBy served{QStringLiteral("groq"), QStringLiteral("llama-3.3-70b"), 1};
        const QString ending = fixture.value(QLatin1String("ending")).toString();
        const QJsonObject f = fixture.value(QLatin1String("failure")).toObject();
        ApiError error = ApiError::make(
            f.value(QLatin1String("status")).toInt(), kindOf(f.value(QLatin1String("kind")).toString()),
            f.value(QLatin1String("code")).toString(), f.value(QLatin1String("message")).toString());
        error.retryAfterSeconds = f.value(QLatin1String("retryAfter")).toInt(-1);
        const EngineFailure failure{error, served, {}};

        if (fixture.contains(QLatin1String("upstream"))) {
            sink.whole(WholeAnswer{
                served, QJsonDocument(fixture.value(QLatin1String("upstream")).toObject()).toJson()});
        } else if (ending == QLatin1String("fail-before")) {
            sink.fail(failure);
        } else {
            sink.begin(served);
            for (const auto &c : fixture.value(QLatin1String("chunks")).toArray()) {
                const QByteArray data = QJsonDocument(c.toObject()).toJson(QJsonDocument::Compact);
                sink.chunk(StreamPiece(StreamPiece::Kind::Chunk, "data: " + data + "\n\n", data,
                                       c.toObject().value(QLatin1String("choices")).toArray().isEmpty()));
            }
            if (ending == QLatin1String("done")) {
                const QJsonObject u = fixture.value(QLatin1String("usage")).toObject();
                sink.usage(TokenUsage{u.value(QLatin1String("prompt_tokens")).toInteger(),
                                      u.value(QLatin1String("completion_tokens")).toInteger(),
                                      u.value(QLatin1String("total_tokens")).toInteger(), false});
                sink.done();
            } else {
                sink.fail(failure);
            }
        }
        QVERIFY(transport->ended);
        QString why;

        if (!transport->streamed) {
            QCOMPARE(transport->status, expect.value(QLatin1String("status")).toInt());
            const QJsonObject body = QJsonDocument::fromJson(transport->body).object();
            if (expect.contains(QLatin1String("error"))) {
                QVERIFY2(contains(body.value(QLatin1String("error")), expect.value(QLatin1String("error")),
                                  QStringLiteral("error"), &why),
                         qPrintable(why));
                if (expect.contains(QLatin1String("retryAfter")))
                    QCOMPARE(transport->header("Retry-After"),
                             expect.value(QLatin1String("retryAfter")).toString().toUtf8());
                return;
            }
            QCOMPARE(transport->header("X-429chain-Provider"), QByteArray("groq/llama-3.3-70b"));
            QVERIFY(body.value(QLatin1String("id")).toString().startsWith(QLatin1String("resp_")));
            QVERIFY(body.value(QLatin1String("created_at")).toInteger() > 0);
            for (const auto &item : body.value(QLatin1String("output")).toArray()) {
                const QString id = item.toObject().value(QLatin1String("id")).toString();
                QVERIFY2(id.startsWith(QLatin1String("msg_")) || id.startsWith(QLatin1String("fc_")),
                         qPrintable(id));
            }
            QVERIFY2(
                contains(body, expect.value(QLatin1String("response")), QStringLiteral("response"), &why),
                qPrintable(why));
            return;
        }

        QCOMPARE(transport->status, 200);
        const QList<SseEvent> events = parseSse(transport->body);
        QVERIFY(!events.isEmpty());
        QStringList types;
        QString text;
        for (qsizetype i = 0; i < events.size(); ++i) {
            const SseEvent &e = events.at(i);
            // Every event is named as its type says and numbered in order from 0.
            QCOMPARE(e.name, e.data.value(QLatin1String("type")).toString());
            QCOMPARE(e.data.value(QLatin1String("sequence_number")).toInt(-1), int(i));
            types << e.name;
            if (e.name == QLatin1String("response.output_text.delta"))
                text += e.data.value(QLatin1String("delta")).toString();
        }
        if (expect.contains(QLatin1String("types"))) {
            QStringList expectedTypes;
            for (const auto &t : expect.value(QLatin1String("types")).toArray())
                expectedTypes << t.toString();
            QCOMPARE(types, expectedTypes);
        }
        if (expect.contains(QLatin1String("last")))
            QCOMPARE(types.last(), expect.value(QLatin1String("last")).toString());
        if (expect.contains(QLatin1String("text")))
            QCOMPARE(text, expect.value(QLatin1String("text")).toString());
        QCOMPARE(types.first(), QStringLiteral("response.created"));
        if (ending == QLatin1String("fail"))
            QVERIFY(!types.contains(QStringLiteral("response.completed")));
        // The last event carries the final response object.
        const QJsonObject response = events.last().data.value(QLatin1String("response")).toObject();
        QVERIFY(response.value(QLatin1String("id")).toString().startsWith(QLatin1String("resp_")));
        QCOMPARE(response.value(QLatin1String("id")),
                 events.first().data.value(QLatin1String("response")).toObject().value(QLatin1String("id")));
        QVERIFY2(
            contains(response, expect.value(QLatin1String("response")), QStringLiteral("response"), &why),
            qPrintable(why));
        // Each added item is done with the same id, and the arguments' deltas add up to the final ones.
        QHash<QString, QString> arguments;
        for (const SseEvent &e : events) {
            if (e.name == QLatin1String("response.function_call_arguments.delta"))
                arguments[e.data.value(QLatin1String("item_id")).toString()] +=
                    e.data.value(QLatin1String("delta")).toString();
            if (e.name == QLatin1String("response.function_call_arguments.done"))
                QCOMPARE(arguments.value(e.data.value(QLatin1String("item_id")).toString()),
                         e.data.value(QLatin1String("arguments")).toString());
        }
    }

    void keepAlivesStayComments()
    {
        auto *transport = new RecordingTransport;
        ResponsesSink sink(transport, kEcho, 1);
        sink.begin(ServedBy{});
        sink.chunk(StreamPiece(StreamPiece::Kind::KeepAlive, ": OPENROUTER PROCESSING\n\n", {}));
        QVERIFY(transport->body.endsWith(": keep-alive\n\n"));
        QCOMPARE(parseSse(transport->body).size(), 2); // created, in_progress: the comment is no event
    }
};

QTEST_GUILESS_MAIN(TestResponsesAdapter)
#include "tst_responsesadapter.moc"
