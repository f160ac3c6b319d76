// Integration: queue mode (issue 4 item 7) over real sockets with a simulated provider and a manual clock. An
// exhausted chain holds the request and serves it when an entry frees, logging it once; queue_full and
// queue_timeout answer 503; a client that leaves while queued costs no upstream request; queue mode off
// answers 429 as before; /v1/ratelimits shows the waiting requests.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QtTest>

using Step = SimulatedProvider::Step;

namespace {

QString chatUrl(ProxyHarness &h)
{
    return h.url(QStringLiteral("/v1/chat/completions"));
}

QNetworkReply *startPost(QNetworkAccessManager &nam, ProxyHarness &h, bool stream = false)
{
    QNetworkRequest req{QUrl(chatUrl(h))};
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader("Authorization", "Bearer test-key");
    req.setTransferTimeout(60'000);
    return nam.post(req, HttpClient::chatBody(QStringLiteral("default"), stream));
}

int statusOf(QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QString errorCode(const QByteArray &body)
{
    return QJsonDocument::fromJson(body)
        .object()
        .value(QLatin1String("error"))
        .toObject()
        .value(QLatin1String("code"))
        .toString();
}

bool setUp(ProxyHarness &h, SimulatedProvider &sim, bool queueMode)
{
    if (!sim.listen())
        return false;
    h.addProvider(QStringLiteral("only"), &sim);
    h.addChain(QStringLiteral("default"), {QStringLiteral("only/m")});
    h.config().settings.queueMode = queueMode;
    return true;
}

int depth(ProxyHarness &h)
{
    return h.service().queue().depth(QStringLiteral("default"));
}

} // namespace

class TestQueue : public QObject
{
    Q_OBJECT

private slots:
    void waitsAndIsServedWhenTheEntryFrees()
    {
        SimulatedProvider sim;
        ProxyHarness h;
        QVERIFY(setUp(h, sim, true));
        QVERIFY(h.start());
        sim.enqueue(Step::rateLimited(1));

        QNetworkAccessManager nam;
        std::unique_ptr<QNetworkReply> reply(startPost(nam, h));
        QTRY_COMPARE_WITH_TIMEOUT(depth(h), 1, 10'000);
        QVERIFY(!reply->isFinished());
        QCOMPARE(h.records.size(), 0); // not logged while waiting

        const QJsonObject limits =
            QJsonDocument::fromJson(
                HttpClient::get(h.url(QStringLiteral("/v1/ratelimits")),
                                {{QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key")}})
                    .body)
                .object();
        const QJsonArray queue = limits.value(QLatin1String("queue")).toArray();
        QCOMPARE(queue.size(), 1);
        QCOMPARE(queue.at(0).toObject().value(QLatin1String("chainName")).toString(),
                 QStringLiteral("default"));
        QCOMPARE(queue.at(0).toObject().value(QLatin1String("depth")).toInt(), 1);

        h.clock().advance(120'000); // the cooldown is over
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 30'000);
        QCOMPARE(statusOf(reply.get()), 200);
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 10'000);
        QCOMPARE(h.records.first().status, 200);
        QCOMPARE(h.records.first().attempts.first().outcome, AttemptRecord::Outcome::RateLimited);
        QCOMPARE(h.records.first().attempts.last().outcome, AttemptRecord::Outcome::Success);
        QCOMPARE(sim.requestCount(), 2);
        QCOMPARE(depth(h), 0);
        QTRY_COMPARE(h.service().activeRequests(), 0);
    }

    void queueFullAnswers503()
    {
        SimulatedProvider sim;
        ProxyHarness h;
        QVERIFY(setUp(h, sim, true));
        h.config().settings.queueMaxSize = 1;
        QVERIFY(h.start());
        sim.enqueue(Step::rateLimited(60));

        QNetworkAccessManager nam;
        std::unique_ptr<QNetworkReply> first(startPost(nam, h));
        QTRY_COMPARE_WITH_TIMEOUT(depth(h), 1, 10'000);

        const auto second =
            HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(second.status, 503);
        QCOMPARE(errorCode(second.body), QStringLiteral("queue_full"));
        QCOMPARE(sim.requestCount(), 1); // the second never went upstream
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 10'000);
        QCOMPARE(h.records.first().status, 503);
        QVERIFY(!first->isFinished());
        h.service().abortAll(QStringLiteral("test over"));
        QTRY_VERIFY_WITH_TIMEOUT(first->isFinished(), 10'000);
        QCOMPARE(statusOf(first.get()), 503);
        QCOMPARE(errorCode(first->readAll()), QStringLiteral("queue_shutdown"));
    }

    void nothingFreesTimesOut()
    {
        SimulatedProvider sim;
        ProxyHarness h;
        QVERIFY(setUp(h, sim, true));
        h.config().settings.queueMaxWaitMs = 1000;
        QVERIFY(h.start());
        sim.enqueue(Step::rateLimited(60));

        const auto r =
            HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false), {}, 30'000);
        QCOMPARE(r.status, 503);
        QCOMPARE(errorCode(r.body), QStringLiteral("queue_timeout"));
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 10'000);
        QCOMPARE(h.records.first().status, 503);
        QCOMPARE(sim.requestCount(), 1);
        QCOMPARE(depth(h), 0);
    }

    void clientLeavingWhileQueuedCostsNothingUpstream()
    {
        SimulatedProvider sim;
        ProxyHarness h;
        QVERIFY(setUp(h, sim, true));
        QVERIFY(h.start());
        sim.enqueue(Step::rateLimited(60));

        QNetworkAccessManager nam;
        QNetworkReply *reply = startPost(nam, h, true);
        QTRY_COMPARE_WITH_TIMEOUT(depth(h), 1, 10'000);
        reply->abort();
        reply->deleteLater();
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 10'000);
        QCOMPARE(h.records.first().status, 499);
        QCOMPARE(depth(h), 0);

        h.clock().advance(120'000); // the entry frees: nobody is waiting any more
        QTest::qWait(2500);
        QCOMPARE(sim.requestCount(), 1);
        QCOMPARE(h.records.size(), 1);
    }

    void queueModeOffAnswers429()
    {
        SimulatedProvider sim;
        ProxyHarness h;
        QVERIFY(setUp(h, sim, false));
        QVERIFY(h.start());
        sim.enqueue(Step::rateLimited(1));

        const auto r = HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 429);
        QVERIFY(!r.header("Retry-After").isEmpty());
        QCOMPARE(errorCode(r.body), QStringLiteral("all_providers_exhausted"));
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 10'000);
        QCOMPARE(depth(h), 0);
    }
};

QTEST_MAIN(TestQueue)
#include "tst_queue.moc"
