// The stats API never holds up the engine thread: a stats query runs where its source runs it (RequestStore:
// a reader thread), so a chat request is served while a query is stuck on a slow disk, and the stats answer
// still arrives once the query ends.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"
#include "statssource.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSemaphore>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <memory>

namespace {

// A request log on a disk that hangs: summary() blocks until the test releases it (at most 10 s, so a proxy
// that runs it on the engine thread fails the test instead of hanging it). Queries run on threads of their
// own.
class StuckStats : public StatsSource
{
public:
    ~StuckStats() override
    {
        m_release.release(100);
        for (QThread *thread : std::as_const(m_threads)) {
            thread->wait();
            delete thread;
        }
    }

    void runQuery(std::function<void()> query) override
    {
        QThread *thread = QThread::create(std::move(query));
        m_threads.append(thread);
        thread->start();
    }

    StatsSummary summary() override
    {
        started = true;
        m_release.tryAcquire(1, 10000);
        finished = true;
        StatsSummary s;
        s.totalRequests = 42;
        return s;
    }
    QList<UsageTotals> providerUsage() override { return {}; }
    std::optional<UsageTotals> providerUsage(const QString &) override { return std::nullopt; }
    QList<UsageTotals> chainUsage() override { return {}; }
    std::optional<UsageTotals> chainUsage(const QString &) override { return std::nullopt; }
    QList<StoredRequest> requests(const RequestQuery &) override { return {}; }
    std::optional<StoredRequest> request(qint64) override { return std::nullopt; }
    QList<TimeseriesPoint> timeseries(bool, qint64) override { return {}; }

    void release() { m_release.release(); }

    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};

private:
    QSemaphore m_release;
    QList<QThread *> m_threads;
};

} // namespace

class TestStatsAsync : public QObject
{
    Q_OBJECT

private slots:
    void chatIsServedWhileAStatsQueryIsStuck()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness harness;
        harness.addProvider(QStringLiteral("a"), &sim);
        harness.addChain(QStringLiteral("default"), {QStringLiteral("a/ma")});
        QVERIFY(harness.start());
        auto stats = std::make_unique<StuckStats>();
        harness.service().setStatsSource(stats.get());

        QNetworkAccessManager nam;
        QNetworkRequest request(QUrl(harness.url(QStringLiteral("/v1/stats/summary"))));
        request.setRawHeader("Authorization", QByteArray("Bearer ") + ProxyHarness::kApiKey);
        std::unique_ptr<QNetworkReply> statsReply(nam.get(request));
        QTRY_VERIFY_WITH_TIMEOUT(stats->started, 20000);

        const HttpClient::Response chat =
            HttpClient::post(harness.url(QStringLiteral("/v1/chat/completions")),
                             HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(chat.status, 200);
        QVERIFY2(!stats->finished, "the chat request waited for the stats query");
        QVERIFY(!statsReply->isFinished());

        stats->release();
        QTRY_VERIFY_WITH_TIMEOUT(statsReply->isFinished(), 20000);
        QCOMPARE(statsReply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject summary = QJsonDocument::fromJson(statsReply->readAll())
                                        .object()
                                        .value(QLatin1String("summary"))
                                        .toObject();
        QCOMPARE(summary.value(QLatin1String("totalRequests")).toInteger(), 42);
        harness.service().setStatsSource(nullptr);
    }

    void aClientThatLeavesBeforeTheAnswerIsNoProblem()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness harness;
        harness.addProvider(QStringLiteral("a"), &sim);
        harness.addChain(QStringLiteral("default"), {QStringLiteral("a/ma")});
        QVERIFY(harness.start());
        auto stats = std::make_unique<StuckStats>();
        harness.service().setStatsSource(stats.get());

        {
            QNetworkAccessManager nam;
            QNetworkRequest request(QUrl(harness.url(QStringLiteral("/v1/stats/summary"))));
            request.setRawHeader("Authorization", QByteArray("Bearer ") + ProxyHarness::kApiKey);
            QNetworkReply *reply = nam.get(request);
            QTRY_VERIFY_WITH_TIMEOUT(stats->started, 20000);
            reply->abort();
            delete reply;
        }
        stats->release();
        QTRY_VERIFY_WITH_TIMEOUT(stats->finished, 20000);
        // The answer for the departed client is dropped; the server goes on serving.
        const HttpClient::Response health = HttpClient::get(harness.url(QStringLiteral("/health")));
        QCOMPARE(health.status, 200);
        harness.service().setStatsSource(nullptr);
    }
};

QTEST_GUILESS_MAIN(TestStatsAsync)
#include "tst_statsasync.moc"
