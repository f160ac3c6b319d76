// Integration: the rate-limit tracker inside the router, over real sockets with simulated providers and a
// manual clock: concurrency slots freed on every way an attempt ends, predictive and 413 skips, Retry-After
// from windows and manual limits, state carried across a restart, and a simulation of three free tiers
// serving a workload larger than any of them without one request sent to an entry known to be empty.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;
using Outcome = AttemptRecord::Outcome;

namespace {

QString chatUrl(ProxyHarness &h)
{
    return h.url(QStringLiteral("/v1/chat/completions"));
}

int post(ProxyHarness &h, bool stream = false, const QJsonObject &extra = {})
{
    const QByteArray body =
        HttpClient::chatBody(QStringLiteral("default"), stream, QStringLiteral("Hello"), extra);
    return stream ? HttpClient::stream(chatUrl(h), body).status : HttpClient::post(chatUrl(h), body).status;
}

QNetworkReply *startStream(QNetworkAccessManager &nam, ProxyHarness &h)
{
    QNetworkRequest req{QUrl(chatUrl(h))};
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader("Authorization", "Bearer test-key");
    return nam.post(req, HttpClient::chatBody(QStringLiteral("default"), true));
}

int countOutcome(const QList<RequestRecord> &records, Outcome outcome)
{
    int n = 0;
    for (const auto &r : records) {
        for (const auto &a : r.attempts)
            n += a.outcome == outcome ? 1 : 0;
    }
    return n;
}

} // namespace

class TestLimits : public QObject
{
    Q_OBJECT

private slots:
    void concurrencySlotsAreReleasedOnEveryEnd()
    {
        SimulatedProvider slow, backup;
        QVERIFY(slow.listen() && backup.listen());
        slow.setReply(QStringLiteral("one two three four five six seven eight"));
        slow.setChunkDelayMs(100);
        ProxyHarness h;
        h.addProvider(QStringLiteral("slow"), &slow);
        h.addProvider(QStringLiteral("backup"), &backup);
        h.config().providers[0].rateLimits.concurrentRequests = 1;
        h.addChain(QStringLiteral("default"), {QStringLiteral("slow/m"), QStringLiteral("backup/m")});
        QVERIFY(h.start());
        RateLimitTracker &tracker = h.service().tracker();
        const QString s = QStringLiteral("slow"), m = QStringLiteral("m");

        // While a stream holds the only slot, the entry is skipped, not queued behind.
        QNetworkAccessManager nam;
        QNetworkReply *first = startStream(nam, h);
        QTRY_COMPARE_WITH_TIMEOUT(tracker.inFlight(s, m), 1, 10'000);
        const auto second =
            HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(second.header("X-429chain-Provider"), QByteArray("backup/m"));
        QCOMPARE(slow.requestCount(), 1);
        QTRY_COMPARE(h.records.size(), 1);
        QVERIFY2(h.records.first().attempts.first().reason.contains(QLatin1String("concurrency: 1 of 1")),
                 qPrintable(h.records.first().attempts.first().reason));

        // Success releases it.
        QTRY_VERIFY_WITH_TIMEOUT(first->isFinished(), 10'000);
        first->deleteLater();
        QTRY_COMPARE(tracker.inFlight(s, m), 0);
        QCOMPARE(HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("slow/m"));
        QCOMPARE(tracker.inFlight(s, m), 0);

        // A failure releases it.
        slow.enqueue(Step::status(500));
        QCOMPARE(HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("backup/m"));
        QCOMPARE(tracker.inFlight(s, m), 0);

        // A client that leaves mid-stream releases it.
        QNetworkReply *leaving = startStream(nam, h);
        QTRY_VERIFY_WITH_TIMEOUT(leaving->bytesAvailable() > 0, 10'000);
        QCOMPARE(tracker.inFlight(s, m), 1);
        leaving->abort();
        leaving->deleteLater();
        QTRY_COMPARE_WITH_TIMEOUT(slow.clientAborts(), 1, 10'000);
        QCOMPARE(tracker.inFlight(s, m), 0);
        QTRY_COMPARE(h.records.last().status, 499);

        // ... and so does one that leaves before the first token.
        slow.setFirstTokenDelayMs(2'000);
        QNetworkReply *early = startStream(nam, h);
        QTRY_COMPARE_WITH_TIMEOUT(tracker.inFlight(s, m), 1, 10'000);
        early->abort();
        early->deleteLater();
        QTRY_COMPARE_WITH_TIMEOUT(tracker.inFlight(s, m), 0, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(h.service().activeRequests(), 0, 10'000);
    }

    void predictiveAndTooLargeSkips()
    {
        SimulatedProvider groq(SimulatedProvider::Dialect::Groq), backup;
        QVERIFY(groq.listen() && backup.listen());
        groq.setRequestLimit(100, 60'000); // successes carry Groq's headers: 6000 tokens per minute
        ProxyHarness h;
        h.addProvider(QStringLiteral("groq"), &groq, QStringLiteral("groq"));
        h.addProvider(QStringLiteral("backup"), &backup);
        h.addChain(QStringLiteral("default"), {QStringLiteral("groq/llama"), QStringLiteral("backup/m")});
        QVERIFY(h.start());
        QCOMPARE(post(h), 200);
        QCOMPARE(groq.requestCount(), 1);

        // More than the TPM window can ever hold: not sent (Groq would say 413).
        QCOMPARE(post(h, false, {{QStringLiteral("max_tokens"), 7000}}), 200);
        QCOMPARE(groq.requestCount(), 1);
        QTRY_COMPARE(h.records.size(), 2);
        QVERIFY2(h.records.at(1).attempts.first().reason.contains(QLatin1String("predicted: needs ~")),
                 qPrintable(h.records.at(1).attempts.first().reason));

        // A 413 "too large for your TPM" skips the entry for that request only.
        QFile file(QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/limits/groq-413-tpm-too-large.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        groq.enqueue(Step::status(413, file.readAll()));
        QCOMPARE(post(h), 200);
        QTRY_COMPARE(h.records.size(), 3);
        QCOMPARE(h.records.at(2).provider, QStringLiteral("backup"));
        QCOMPARE(h.records.at(2).attempts.first().status, 413);
        QVERIFY(!h.service().tracker().cooldown(QStringLiteral("groq"), QStringLiteral("llama")));
        QCOMPARE(post(h), 200);
        QTRY_COMPARE(h.records.size(), 4);
        QCOMPARE(h.records.at(3).provider, QStringLiteral("groq"));
        QCOMPARE(groq.requestCount(), 3);
    }

    // A request that does not fit only because of another one's reservation waits for that one to report,
    // instead of failing while the quota is there.
    void waitsForAttemptsInFlightRatherThanFailing()
    {
        SimulatedProvider groq(SimulatedProvider::Dialect::Groq);
        QVERIFY(groq.listen());
        groq.setRequestLimit(100, 60'000); // 6000 tokens per minute in the headers
        groq.setFirstTokenDelayMs(300);
        ProxyHarness h;
        h.addProvider(QStringLiteral("groq"), &groq, QStringLiteral("groq"));
        h.addChain(QStringLiteral("default"), {QStringLiteral("groq/llama")});
        QVERIFY(h.start());
        QCOMPARE(post(h), 200);

        // Each reserves ~3500 tokens; both together do not fit what the window said, each alone does.
        QNetworkAccessManager nam;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 2; ++i) {
            QNetworkRequest req{QUrl(chatUrl(h))};
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            req.setRawHeader("Authorization", "Bearer test-key");
            replies << nam.post(req,
                                HttpClient::chatBody(QStringLiteral("default"), false, QStringLiteral("Hi"),
                                                     {{QStringLiteral("max_tokens"), 3500}}));
        }
        for (QNetworkReply *reply : std::as_const(replies)) {
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10'000);
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            reply->deleteLater();
        }
        QCOMPARE(groq.requestCount(), 3);
        QTRY_COMPARE(h.records.size(), 3);
        for (const auto &r : std::as_const(h.records))
            QCOMPARE(r.attempts.size(), 1); // the wait left no skip on record
    }

    void retryAfterComesFromWindowsAndManualLimits()
    {
        SimulatedProvider groq(SimulatedProvider::Dialect::Groq), manual;
        QVERIFY(groq.listen() && manual.listen());
        groq.setRequestLimit(1, 90'000);
        ProxyHarness h;
        h.addProvider(QStringLiteral("groq"), &groq, QStringLiteral("groq"));
        h.addProvider(QStringLiteral("manual"), &manual, QStringLiteral("openai"));
        h.config().providers[1].rateLimits.requestsPerMinute = 1;
        h.addChain(QStringLiteral("default"), {QStringLiteral("groq/llama"), QStringLiteral("manual/m")});
        QVERIFY(h.start());

        QCOMPARE(post(h), 200); // groq: remaining 0 for 90 s
        QCOMPARE(post(h), 200); // manual: its one request this minute
        const auto r = HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("61")); // the manual minute slides first
        QCOMPARE(groq.requestCount(), 1);
        QCOMPARE(manual.requestCount(), 1);
        const QString message =
            r.json().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString();
        QVERIFY2(message.contains(QLatin1String("proactive: remaining requests = 0")) &&
                     message.contains(QLatin1String("manual limit: RPM exceeded")),
                 qPrintable(message));

        h.clock().advance(61'000);
        const auto again =
            HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(again.header("X-429chain-Provider"), QByteArray("manual/m"));
        QCOMPARE(groq.requestCount(), 1);
    }

    void restartKeepsKnownEmptyEntries()
    {
        SimulatedProvider router(SimulatedProvider::Dialect::OpenRouter), backup;
        QVERIFY(router.listen() && backup.listen());
        QByteArray saved;
        {
            ProxyHarness h;
            h.addProvider(QStringLiteral("or"), &router, QStringLiteral("openrouter"));
            h.addProvider(QStringLiteral("backup"), &backup);
            h.addChain(QStringLiteral("default"), {QStringLiteral("or/a:free"), QStringLiteral("or/b:free"),
                                                   QStringLiteral("backup/m")});
            QVERIFY(h.start());
            router.enqueue(Step::dailyLimited());
            QCOMPARE(post(h), 200);
            QCOMPARE(router.requestCount(), 1); // b:free shares the spent daily pool: not asked
            saved = h.service().tracker().saveState();
        }
        ProxyHarness h;
        h.addProvider(QStringLiteral("or"), &router, QStringLiteral("openrouter"));
        h.addProvider(QStringLiteral("backup"), &backup);
        h.addChain(QStringLiteral("default"),
                   {QStringLiteral("or/a:free"), QStringLiteral("or/b:free"), QStringLiteral("backup/m")});
        QVERIFY(h.start());
        h.clock().advance(3'600'000);
        QVERIFY(h.service().tracker().restoreState(saved));
        QCOMPARE(post(h), 200);
        QCOMPARE(router.requestCount(), 1);
        // Both :free entries show the pool's exhaustion, until the next 00:00 UTC.
        int pooled = 0;
        for (const auto &s : h.service().tracker().status()) {
            if (s.provider != QLatin1String("or"))
                continue;
            ++pooled;
            QVERIFY(s.exhausted());
            QCOMPARE(s.cooldownUntilMs, (h.clock().nowMs() / 86'400'000 + 1) * 86'400'000);
        }
        QCOMPARE(pooled, 2);
    }

    // OpenRouter reports its daily cap inside a stream that already said 200: still a daily cap.
    void inBandDailyCapCoolsThePool()
    {
        SimulatedProvider router(SimulatedProvider::Dialect::OpenRouter), backup;
        QVERIFY(router.listen() && backup.listen());
        Step step = Step::of(Step::Kind::InBandErrorBeforeFirstToken);
        step.body =
            R"({"code":429,"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"})";
        router.enqueue(step);
        ProxyHarness h;
        h.addProvider(QStringLiteral("or"), &router, QStringLiteral("openrouter"));
        h.addProvider(QStringLiteral("backup"), &backup);
        h.addChain(QStringLiteral("default"),
                   {QStringLiteral("or/a:free"), QStringLiteral("or/b:free"), QStringLiteral("backup/m")});
        QVERIFY(h.start());
        const auto r = HttpClient::stream(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), true));
        QVERIFY(r.sawDone());
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("backup/m"));
        QCOMPARE(router.requestCount(), 1);
        QTRY_COMPARE(h.records.size(), 1);
        QCOMPARE(h.records.first().attempts.first().outcome, Outcome::RateLimited);
        const auto cd = h.service().tracker().cooldown(QStringLiteral("or"), QStringLiteral("b:free"));
        QVERIFY(cd);
        QCOMPARE(cd->untilMs, (h.clock().nowMs() / 86'400'000 + 1) * 86'400'000);
    }

    // Three free tiers with known quotas; a workload larger than any of them, sequential then in bursts.
    void simulationServesEverythingAndNeverAsksAnEmptyEntry()
    {
        SimulatedProvider groq(SimulatedProvider::Dialect::Groq);
        SimulatedProvider router(SimulatedProvider::Dialect::OpenRouter);
        SimulatedProvider cerebras(SimulatedProvider::Dialect::Cerebras);
        QVERIFY(groq.listen() && router.listen() && cerebras.listen());
        const int quota[3] = {4, 3, 5};
        groq.setRequestLimit(quota[0], 60'000);
        router.setRequestLimit(quota[1], 60'000);
        cerebras.setRequestLimit(quota[2], 60'000);
        ProxyHarness h;
        h.addProvider(QStringLiteral("groq"), &groq, QStringLiteral("groq"));
        h.addProvider(QStringLiteral("openrouter"), &router, QStringLiteral("openrouter"));
        h.addProvider(QStringLiteral("cerebras"), &cerebras, QStringLiteral("cerebras"));
        h.addChain(QStringLiteral("default"),
                   {QStringLiteral("groq/llama-3.1-8b-instant"),
                    QStringLiteral("openrouter/meta-llama/llama-3.3-70b-instruct:free"),
                    QStringLiteral("cerebras/llama3.1-8b")});
        for (SimulatedProvider *sim : {&groq, &router, &cerebras})
            sim->setClock(&h.clock());
        QVERIFY(h.start());
        const int total = quota[0] + quota[1] + quota[2];
        const auto counts = [&] {
            return QList<int>{groq.requestCount(), router.requestCount(), cerebras.requestCount()};
        };

        // Round 1, one at a time, streams and whole answers mixed: all served, each tier asked exactly its
        // quota.
        for (int i = 0; i < total; ++i)
            QCOMPARE(post(h, i % 2 == 1), 200);
        QCOMPARE(counts(), (QList<int>{quota[0], quota[1], quota[2]}));
        // Once everything is spent, the client is told when to come back and nobody is asked.
        const auto dry = HttpClient::post(chatUrl(h), HttpClient::chatBody(QStringLiteral("default"), false));
        QCOMPARE(dry.status, 429);
        QCOMPARE(dry.header("Retry-After"), QByteArray("60"));
        QCOMPARE(counts(), (QList<int>{quota[0], quota[1], quota[2]}));
        for (const auto &s : h.service().tracker().status()) {
            QVERIFY(s.exhausted());
            QCOMPARE(s.reason, QStringLiteral("proactive: remaining requests = 0"));
        }

        // Round 2 after the reset: a burst of concurrent requests. What is in flight counts against what the
        // windows announced, so the burst spreads over the tiers without a single 429.
        h.clock().advance(60'000);
        h.service().tracker().sweep();
        QNetworkAccessManager nam;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < total; ++i) {
            QNetworkRequest req{QUrl(chatUrl(h))};
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            req.setRawHeader("Authorization", "Bearer test-key");
            replies << nam.post(req, HttpClient::chatBody(QStringLiteral("default"), i % 3 == 0));
        }
        for (QNetworkReply *reply : std::as_const(replies)) {
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20'000);
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            reply->deleteLater();
        }
        QCOMPARE(counts(), (QList<int>{2 * quota[0], 2 * quota[1], 2 * quota[2]}));
        QTRY_COMPARE(h.records.size(), 2 * total + 1);
        QCOMPARE(countOutcome(h.records, Outcome::RateLimited), 0); // no upstream 429, ever
        QCOMPARE(post(h), 429);
        QCOMPARE(counts(), (QList<int>{2 * quota[0], 2 * quota[1], 2 * quota[2]}));
    }
};

QTEST_MAIN(TestLimits)
#include "tst_limits.moc"
