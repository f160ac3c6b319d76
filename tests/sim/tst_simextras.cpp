// The simulated provider's tool-call and embeddings answers (SimExtras), asked directly over loopback: what a
// real provider sends, so the adapters' tests stand on a faithful fake.

#include "chatformat.h"
#include "httpclient.h"
#include "simextras.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtEndian>
#include <QtTest>

class TestSimExtras : public QObject
{
    Q_OBJECT

private:
    static QByteArray toolRequest(bool stream)
    {
        return HttpClient::chatBody(QStringLiteral("m"), stream, QStringLiteral("Weather?"),
                                    QJsonObject{{QStringLiteral("stream_options"),
                                                 QJsonObject{{QStringLiteral("include_usage"), true}}}});
    }

private slots:
    void wholeToolCalls()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        sim.enqueueToolCalls(
            {{QStringLiteral("call_1"), QStringLiteral("get_weather"), QStringLiteral(R"({"city":"Paris"})")},
             {QStringLiteral("call_2"), QStringLiteral("get_time"), QStringLiteral("{}")}},
            QStringLiteral("Checking."));
        QCOMPARE(sim.pendingToolCalls(), 1);
        const auto r =
            HttpClient::post(sim.baseUrl() + QStringLiteral("/chat/completions"), toolRequest(false));
        QCOMPARE(r.status, 200);
        const QJsonObject choice = r.json().value(QLatin1String("choices")).toArray().first().toObject();
        QCOMPARE(choice.value(QLatin1String("finish_reason")).toString(), QStringLiteral("tool_calls"));
        const QJsonObject message = choice.value(QLatin1String("message")).toObject();
        QCOMPARE(message.value(QLatin1String("content")).toString(), QStringLiteral("Checking."));
        const QJsonArray calls = message.value(QLatin1String("tool_calls")).toArray();
        QCOMPARE(calls.size(), 2);
        QCOMPARE(calls.at(1)
                     .toObject()
                     .value(QLatin1String("function"))
                     .toObject()
                     .value(QLatin1String("name"))
                     .toString(),
                 QStringLiteral("get_time"));
        QVERIFY(r.json().value(QLatin1String("usage")).isObject());
        // Then text again.
        QCOMPARE(sim.pendingToolCalls(), 0);
        const auto next =
            HttpClient::post(sim.baseUrl() + QStringLiteral("/chat/completions"), toolRequest(false));
        QVERIFY(next.json()
                    .value(QLatin1String("choices"))
                    .toArray()
                    .first()
                    .toObject()
                    .value(QLatin1String("message"))
                    .toObject()
                    .value(QLatin1String("tool_calls"))
                    .isUndefined());
    }

    void streamedToolCalls()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        const QString arguments = QStringLiteral(R"({"city":"Paris","unit":"celsius"})");
        sim.enqueueToolCalls({{QStringLiteral("call_1"), QStringLiteral("get_weather"), arguments}});
        const auto r =
            HttpClient::stream(sim.baseUrl() + QStringLiteral("/chat/completions"), toolRequest(true));
        QCOMPARE(r.status, 200);
        QVERIFY(r.sawDone());
        QString name;
        QString joined;
        QString finish;
        bool usage = false;
        int pieces = 0;
        for (const auto &e : r.events) {
            if (e.data == "[DONE]")
                continue;
            const ChatDelta d = ChatDelta::parse(e.data);
            for (const auto &call : d.toolCalls) {
                QCOMPARE(call.index, 0);
                if (!call.name.isEmpty())
                    name = call.name;
                if (!call.arguments.isEmpty()) {
                    joined += call.arguments;
                    ++pieces;
                }
            }
            if (!d.finishReason.isEmpty())
                finish = d.finishReason;
            usage = usage || d.usage.has_value();
        }
        QCOMPARE(name, QStringLiteral("get_weather"));
        QCOMPARE(joined, arguments);
        QVERIFY(pieces > 1); // in pieces, as a model writes them
        QCOMPARE(finish, QStringLiteral("tool_calls"));
        QVERIFY(usage);
    }

    void embeddings_data()
    {
        QTest::addColumn<bool>("honour");
        QTest::newRow("floats even for base64") << false;
        QTest::newRow("base64 when honoured") << true;
    }

    void embeddings()
    {
        QFETCH(bool, honour);
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        sim.setEmbeddingsHonourBase64(honour);
        const QByteArray body =
            R"({"model":"e","input":["a","b"],"dimensions":4,"encoding_format":"base64"})";
        const auto r = HttpClient::post(sim.baseUrl() + QStringLiteral("/embeddings"), body);
        QCOMPARE(r.status, 200);
        QCOMPARE(sim.lastRequest().path, QStringLiteral("/v1/embeddings"));
        const QJsonArray data = r.json().value(QLatin1String("data")).toArray();
        QCOMPARE(data.size(), 2);
        const QJsonValue embedding = data.at(1).toObject().value(QLatin1String("embedding"));
        const QList<float> expected = SimExtras::embeddingOf(QStringLiteral("b"), 4);
        QList<float> got;
        if (honour) {
            QVERIFY(embedding.isString());
            const QByteArray bytes = QByteArray::fromBase64(embedding.toString().toLatin1());
            for (qsizetype i = 0; i + 4 <= bytes.size(); i += 4)
                got << qFromLittleEndian<float>(bytes.constData() + i);
        } else {
            QVERIFY(embedding.isArray());
            for (const auto &v : embedding.toArray())
                got << float(v.toDouble());
        }
        QCOMPARE(got, expected);
        QVERIFY(
            r.json().value(QLatin1String("usage")).toObject().value(QLatin1String("prompt_tokens")).toInt() >
            0);
    }

    void embeddingsTakeScriptSteps()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        sim.enqueue(SimulatedProvider::Step::rateLimited(9));
        const auto r = HttpClient::post(sim.baseUrl() + QStringLiteral("/embeddings"), R"({"input":"a"})");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("9"));
        QCOMPARE(HttpClient::post(sim.baseUrl() + QStringLiteral("/embeddings"), R"({"input":"a"})").status,
                 200);
    }
};

QTEST_GUILESS_MAIN(TestSimExtras)
#include "tst_simextras.moc"
