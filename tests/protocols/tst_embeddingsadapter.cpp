// The embeddings adapter on its own: which bodies are taken (and which get a 400 naming the parameter), and
// what the client reads: the provider's answer with the client's model, floats encoded as base64 when the
// client asked for base64 and the provider ignored it, a base64 answer passed as it is.

#include "clienttransport.h"
#include "embeddingsrequest.h"
#include "embeddingssink.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>
#include <QtTest>

namespace {

class RecordingTransport : public ClientTransport
{
public:
    int status = 0;
    QByteArray body;

    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return 0; }
    void sendWhole(int s, const QByteArray &b, const Headers &, const QByteArray &) override
    {
        status = s;
        body = b;
    }
    void beginStream(int, const Headers &, const QByteArray &) override {}
    void writeChunk(const QByteArray &) override {}
    void endStream() override {}
};

QList<float> decode(const QString &base64)
{
    const QByteArray bytes = QByteArray::fromBase64(base64.toLatin1());
    QList<float> values;
    for (qsizetype i = 0; i + 4 <= bytes.size(); i += 4)
        values << qFromLittleEndian<float>(bytes.constData() + i);
    return values;
}

const QByteArray kProviderAnswer =
    R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25,0.125]},)"
    R"({"object":"embedding","index":1,"embedding":[1,0,-1]}],"model":"nomic-embed-text-v1.5",)"
    R"("usage":{"prompt_tokens":4,"total_tokens":4}})";

} // namespace

class TestEmbeddingsAdapter : public QObject
{
    Q_OBJECT

private slots:
    void validates_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("param"); // empty: accepted
        QTest::newRow("string") << QByteArray(R"({"model":"embed","input":"hello"})") << QString();
        QTest::newRow("strings") << QByteArray(R"({"input":["a","b"],"encoding_format":"base64"})")
                                 << QString();
        QTest::newRow("tokens") << QByteArray(R"({"input":[1,2,3]})") << QString();
        QTest::newRow("token arrays") << QByteArray(R"({"input":[[1,2],[3]],"dimensions":256})") << QString();
        QTest::newRow("missing input") << QByteArray(R"({"model":"embed"})") << QStringLiteral("input");
        QTest::newRow("empty string") << QByteArray(R"({"input":""})") << QStringLiteral("input");
        QTest::newRow("empty array") << QByteArray(R"({"input":[]})") << QStringLiteral("input");
        QTest::newRow("mixed") << QByteArray(R"({"input":["a",1]})") << QStringLiteral("input");
        QTest::newRow("negative token") << QByteArray(R"({"input":[1,-2]})") << QStringLiteral("input");
        QTest::newRow("fraction token") << QByteArray(R"({"input":[[1.5]]})") << QStringLiteral("input");
        QTest::newRow("object input") << QByteArray(R"({"input":{"a":1}})") << QStringLiteral("input");
        QTest::newRow("bad format") << QByteArray(R"({"input":"a","encoding_format":"int8"})")
                                    << QStringLiteral("encoding_format");
        QTest::newRow("bad dimensions")
            << QByteArray(R"({"input":"a","dimensions":0})") << QStringLiteral("dimensions");
        QTest::newRow("bad model") << QByteArray(R"({"input":"a","model":7})") << QStringLiteral("model");
        QTest::newRow("not json") << QByteArray("{input") << QString::fromLatin1("-");
    }

    void validates()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, param);
        EmbeddingsRequest parsed;
        const auto error = EmbeddingsRequest::parse(body, &parsed);
        if (param.isEmpty()) {
            QVERIFY2(!error, error ? qPrintable(error->message) : "");
            QCOMPARE(parsed.request.operation, EngineRequest::Operation::Embeddings);
            QCOMPARE(parsed.request.protocol, EngineRequest::Protocol::Embeddings);
            QVERIFY(parsed.request.estimatedPromptTokens > 0);
            QCOMPARE(parsed.base64, body.contains("base64"));
            return;
        }
        QVERIFY(error);
        QCOMPARE(error->status, 400);
        QVERIFY(!error->message.isEmpty());
        if (param != QLatin1String("-"))
            QCOMPARE(error->param, param);
    }

    void answersTheClientsModelWithFloats()
    {
        auto *t = new RecordingTransport;
        EmbeddingsSink sink(t, QStringLiteral("text-embedding-3-small"), false);
        sink.whole(WholeAnswer{ServedBy{}, kProviderAnswer});
        QCOMPARE(t->status, 200);
        const QJsonObject body = QJsonDocument::fromJson(t->body).object();
        QCOMPARE(body.value(QLatin1String("model")).toString(), QStringLiteral("text-embedding-3-small"));
        QCOMPARE(
            body.value(QLatin1String("data")).toArray().at(0).toObject().value(QLatin1String("embedding")),
            QJsonValue(QJsonArray{0.5, -0.25, 0.125}));
        QCOMPARE(body.value(QLatin1String("usage")).toObject().value(QLatin1String("prompt_tokens")).toInt(),
                 4);
    }

    void encodesFloatsWhenBase64WasAsked()
    {
        auto *t = new RecordingTransport;
        EmbeddingsSink sink(t, QStringLiteral("embed"), true);
        sink.whole(WholeAnswer{ServedBy{}, kProviderAnswer});
        const QJsonArray data =
            QJsonDocument::fromJson(t->body).object().value(QLatin1String("data")).toArray();
        QCOMPARE(data.size(), 2);
        const QJsonValue first = data.at(0).toObject().value(QLatin1String("embedding"));
        QVERIFY(first.isString());
        QCOMPARE(decode(first.toString()), (QList<float>{0.5f, -0.25f, 0.125f}));
        // The bytes OpenAI would send: little-endian float32 (0.5 = 00 00 00 3f).
        QCOMPARE(QByteArray::fromBase64(first.toString().toLatin1()).left(4),
                 QByteArray::fromHex("0000003f"));
        QCOMPARE(decode(data.at(1).toObject().value(QLatin1String("embedding")).toString()),
                 (QList<float>{1.0f, 0.0f, -1.0f}));
    }

    void passesABase64Answer()
    {
        const QByteArray answer =
            R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAAPw=="}],"model":"m"})";
        QCOMPARE(QJsonDocument::fromJson(EmbeddingsSink::clientBody(answer, QString(), true))
                     .object()
                     .value(QLatin1String("data"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QLatin1String("embedding"))
                     .toString(),
                 QStringLiteral("AAAAPw=="));
    }
};

QTEST_GUILESS_MAIN(TestEmbeddingsAdapter)
#include "tst_embeddingsadapter.moc"
