// Integration: POST /v1/embeddings through the real server over simulated providers: floats as asked,
// base64 encoded by the proxy when the provider ignores encoding_format (and passed when it does not), the
// client's model name in the answer, the waterfall, tokens in the request log, and 400s for bad input.

#include "httpclient.h"
#include "proxyharness.h"
#include "simextras.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtEndian>
#include <QtTest>

using Step = SimulatedProvider::Step;

namespace {

QList<float> decode(const QString &base64)
{
    const QByteArray bytes = QByteArray::fromBase64(base64.toLatin1());
    QList<float> values;
    for (qsizetype i = 0; i + 4 <= bytes.size(); i += 4)
        values << qFromLittleEndian<float>(bytes.constData() + i);
    return values;
}

QByteArray body(const QJsonValue &input, const QString &format = {})
{
    QJsonObject o{{QStringLiteral("model"), QStringLiteral("text-embedding-3-small")},
                  {QStringLiteral("input"), input}};
    if (!format.isEmpty())
        o.insert(QStringLiteral("encoding_format"), format);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestEmbeddings : public QObject
{
    Q_OBJECT

private:
    struct Pair
    {
        SimulatedProvider a;
        SimulatedProvider b;
        ProxyHarness h;
        Pair()
        {
            a.listen();
            b.listen();
            h.addProvider(QStringLiteral("a"), &a);
            h.addProvider(QStringLiteral("b"), &b);
            h.addChain(QStringLiteral("default"), {QStringLiteral("a/embed-a"), QStringLiteral("b/embed-b")});
        }
        QString url() const { return h.url(QStringLiteral("/v1/embeddings")); }
    };

private slots:
    void floats()
    {
        Pair p;
        QVERIFY(p.h.start());
        const auto r =
            HttpClient::post(p.url(), body(QJsonArray{QStringLiteral("hello"), QStringLiteral("world")}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/embed-a"));
        const QJsonObject answer = r.json();
        QCOMPARE(answer.value(QLatin1String("model")).toString(), QStringLiteral("text-embedding-3-small"));
        const QJsonArray data = answer.value(QLatin1String("data")).toArray();
        QCOMPARE(data.size(), 2);
        const QJsonArray first = data.at(0).toObject().value(QLatin1String("embedding")).toArray();
        const QList<float> expected = SimExtras::embeddingOf(QStringLiteral("hello"), 8);
        QCOMPARE(first.size(), expected.size());
        for (qsizetype i = 0; i < first.size(); ++i)
            QCOMPARE(float(first.at(i).toDouble()), expected.at(i));
        // The upstream got the entry's model and the input as sent.
        QCOMPARE(p.a.lastRequest().path, QStringLiteral("/v1/embeddings"));
        QCOMPARE(p.a.lastRequest().body.value(QLatin1String("model")).toString(), QStringLiteral("embed-a"));
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().status, 200);
        QCOMPARE(p.h.records.first().promptTokens, answer.value(QLatin1String("usage"))
                                                       .toObject()
                                                       .value(QLatin1String("prompt_tokens"))
                                                       .toInteger());
        QVERIFY(!p.h.records.first().tokensEstimated);
    }

    void base64_data()
    {
        QTest::addColumn<bool>("providerHonours");
        QTest::newRow("provider answers floats: the proxy encodes") << false;
        QTest::newRow("provider answers base64: passed on") << true;
    }

    void base64()
    {
        QFETCH(bool, providerHonours);
        Pair p;
        p.a.setEmbeddingsHonourBase64(providerHonours);
        QVERIFY(p.h.start());
        const auto r = HttpClient::post(p.url(), body(QStringLiteral("hello"), QStringLiteral("base64")));
        QCOMPARE(r.status, 200);
        // The request went upstream with encoding_format as the client sent it.
        QCOMPARE(p.a.lastRequest().body.value(QLatin1String("encoding_format")).toString(),
                 QStringLiteral("base64"));
        const QJsonValue embedding = r.json()
                                         .value(QLatin1String("data"))
                                         .toArray()
                                         .at(0)
                                         .toObject()
                                         .value(QLatin1String("embedding"));
        QVERIFY2(embedding.isString(), "base64 was asked: never floats");
        QCOMPARE(decode(embedding.toString()), SimExtras::embeddingOf(QStringLiteral("hello"), 8));
    }

    void waterfall()
    {
        Pair p;
        p.a.enqueue(Step::rateLimited(20));
        QVERIFY(p.h.start());
        const auto r = HttpClient::post(p.url(), body(QJsonArray{1, 2, 3}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/embed-b"));
        QCOMPARE(r.header("X-429chain-Attempts"), QByteArray("2"));
        QCOMPARE(r.json().value(QLatin1String("data")).toArray().size(), 1);
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("missing") << QByteArray(R"({"model":"default"})");
        QTest::newRow("empty") << QByteArray(R"({"input":[]})");
        QTest::newRow("format") << QByteArray(R"({"input":"x","encoding_format":"binary"})");
    }

    void badInput()
    {
        QFETCH(QByteArray, request);
        Pair p;
        QVERIFY(p.h.start());
        const auto r = HttpClient::post(p.url(), request);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("invalid_request_error"));
        QCOMPARE(p.a.requestCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestEmbeddings)
#include "tst_embeddings.moc"
