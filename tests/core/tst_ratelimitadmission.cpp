// Admission on a manual clock: manual sliding windows (requests and real tokens), predictive skips from
// announced and manual token windows, concurrency slots, live limit changes, and the ring counter beneath.

#include "clock.h"
#include "limithints.h"
#include "ratelimittracker.h"
#include "slidingcounter.h"

#include <QSignalSpy>
#include <QtTest>

namespace {

using Block = RateLimitTracker::Admission::Block;
using Headers = LimitParsing::Headers;

constexpr qint64 T0 = 1'700'000'000'000; // a whole second

Headers groqHeaders(int remainingRequests, const char *resetRequests, int remainingTokens,
                    const char *resetTokens)
{
    return {{"x-ratelimit-limit-requests", "14400"},
            {"x-ratelimit-remaining-requests", QByteArray::number(remainingRequests)},
            {"x-ratelimit-reset-requests", resetRequests},
            {"x-ratelimit-limit-tokens", "6000"},
            {"x-ratelimit-remaining-tokens", QByteArray::number(remainingTokens)},
            {"x-ratelimit-reset-tokens", resetTokens}};
}

// One whole attempt: admitted, answered, released with `tokens` used.
void attempt(RateLimitTracker &t, const QString &provider, const QString &model, const QString &type,
             int status, const Headers &headers = {}, qint64 tokens = 10)
{
    const auto admission = t.admit(provider, model, tokens);
    if (!admission.allowed())
        qFatal("attempt on %s/%s refused: %s", qPrintable(provider), qPrintable(model),
               qPrintable(admission.reason));
    const LimitSignal signal = LimitParsing::parse(type, status, headers, {}, t.clock().nowMs());
    t.recordAnswer(provider, model, status, signal, QStringLiteral("msg"), admission.ticket);
    t.release(admission.ticket, status < 300 ? tokens : 0);
}

ManualRateLimits limits(std::optional<int> rpm, std::optional<int> tpm = {},
                        std::optional<int> slotLimit = {})
{
    ManualRateLimits l;
    l.requestsPerMinute = rpm;
    l.tokensPerMinute = tpm;
    l.concurrentRequests = slotLimit;
    return l;
}

const RateLimitTracker::WindowStatus *findWindow(const RateLimitTracker::PairStatus &s, const QString &source)
{
    for (const auto &w : s.windows) {
        if (w.source == source)
            return &w;
    }
    return nullptr;
}

} // namespace

class TestRateLimitAdmission : public QObject
{
    Q_OBJECT

private slots:
    void counterSlidesInBoundedSlices()
    {
        SlidingCounter minute(60'000, 60);
        minute.add(T0, 1, 100);
        minute.add(T0 + 30'000, 2, 50);
        QCOMPARE(minute.requests(), 3);
        QCOMPARE(minute.tokens(), 150);
        // The first slice leaves between 60 and 61 s later: never early.
        QCOMPARE(minute.freesAtMs(false, 2, T0 + 30'000), T0 + 61'000);
        QCOMPARE(minute.requestsAt(T0 + 60'999), 3);
        QCOMPARE(minute.requestsAt(T0 + 61'000), 2);
        minute.advance(T0 + 61'000);
        QCOMPARE(minute.requests(), 2);
        minute.adjustTokens(T0 + 30'000, -80); // a reservation corrected to what was used
        QCOMPARE(minute.tokens(), 0);          // never below zero
        minute.adjustTokens(T0, 500);          // that slice is gone: ignored
        QCOMPARE(minute.tokens(), 0);
        // A long silence empties it without walking every slice.
        minute.advance(T0 + 10 * 86'400'000LL);
        QVERIFY(minute.isEmpty());
        // Saved slices come back while they are still in the window.
        SlidingCounter day(86'400'000, 96);
        day.add(T0, 4, 40);
        day.add(T0 + 3'600'000, 1, 10);
        SlidingCounter restored(86'400'000, 96);
        restored.restore(day.save(), T0 + 24 * 3'600'000);
        QCOMPARE(restored.requests(), 1 + 4); // the first slice is still within the day (plus one slice)
        restored.restore(day.save(), T0 + 26 * 3'600'000);
        QCOMPARE(restored.requests(), 0);
        restored.restore(QJsonArray{QJsonArray{1, 2}, QStringLiteral("x")}, T0);
        QVERIFY(restored.isEmpty());
    }

    void manualWindowsSlide()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        t.setProvider(p, QStringLiteral("openai"), limits(3));
        for (int i = 0; i < 3; ++i) {
            attempt(t, p, m, QStringLiteral("openai"), 200);
            clock.advance(10'000);
        }
        auto refused = t.admit(p, m, 10);
        QCOMPARE(refused.block, Block::Manual);
        QCOMPARE(refused.reason, QStringLiteral("manual limit: RPM exceeded"));
        QVERIFY2(refused.freesAtMs > T0 + 60'000 && refused.freesAtMs <= T0 + 61'000,
                 qPrintable(QString::number(refused.freesAtMs - T0)));
        QCOMPARE(t.status().first().stateName(), QStringLiteral("exhausted"));
        clock.set(refused.freesAtMs);
        QVERIFY(t.admit(p, m, 10).allowed()); // the first left; the next two leave 10 s apart
        QCOMPARE(t.admit(p, m, 10).block, Block::Manual);
        clock.advance(10'000);
        QVERIFY(t.admit(p, m, 10).allowed());

        // Daily requests: still blocked 23 h later, free once the day has slid past.
        ManualRateLimits daily;
        daily.requestsPerDay = 2;
        t.setProvider(QStringLiteral("d"), QStringLiteral("openai"), daily);
        attempt(t, QStringLiteral("d"), m, QStringLiteral("openai"), 200);
        attempt(t, QStringLiteral("d"), m, QStringLiteral("openai"), 200);
        refused = t.admit(QStringLiteral("d"), m, 10);
        QCOMPARE(refused.reason, QStringLiteral("manual limit: daily request limit exceeded"));
        clock.advance(23 * 3'600'000);
        QCOMPARE(t.admit(QStringLiteral("d"), m, 10).block, Block::Manual);
        clock.set(refused.freesAtMs);
        QVERIFY(t.admit(QStringLiteral("d"), m, 10).allowed());
    }

    void manualTokensCountRealUsageAndPredict()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        t.setProvider(p, QStringLiteral("openai"), limits({}, 1000));
        const auto a = t.admit(p, m, 100); // reserves 100
        QVERIFY(a.allowed());
        QCOMPARE(findWindow(t.status().first(), QStringLiteral("manual"))->remaining, 900);
        t.release(a.ticket, 600); // really used 600
        QCOMPARE(findWindow(t.status().first(), QStringLiteral("manual"))->remaining, 400);
        const auto b = t.admit(p, m, 300);
        QVERIFY(b.allowed());
        t.release(b.ticket, 300);
        const auto big = t.admit(p, m, 200);
        QCOMPARE(big.block, Block::Predicted);
        QVERIFY2(big.reason.startsWith(QLatin1String("predicted: needs ~200 tokens, 100 left until ")),
                 qPrintable(big.reason));
        QVERIFY(big.freesAtMs > T0);
        QVERIFY(t.admit(p, m, 50).allowed());
        const auto huge = t.admit(p, m, 2000);
        QCOMPARE(huge.block, Block::Predicted);
        QCOMPARE(huge.freesAtMs, 0); // waiting never makes it fit
        clock.advance(61'000);
        QVERIFY(t.admit(p, m, 200).allowed());
    }

    void predictiveSkipFromAnnouncedTokens()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString g = QStringLiteral("groq"), m = QStringLiteral("llama");
        t.setProvider(g, g, {});
        attempt(t, g, m, g, 200, groqHeaders(100, "1m0s", 500, "7s"));
        const auto refused = t.admit(g, m, 800);
        QCOMPARE(refused.block, Block::Predicted);
        QCOMPARE(refused.freesAtMs, T0 + 7'000);
        QVERIFY2(refused.reason.startsWith(QLatin1String("predicted: needs ~800 tokens, 500 left until ")),
                 qPrintable(refused.reason));
        QCOMPARE(t.admit(g, m, 7000).freesAtMs, 0); // more than the 6000 TPM window itself
        QVERIFY(t.admit(g, m, 300).allowed());
        QCOMPARE(t.admit(g, m, 300).block, Block::Predicted); // the first 300 is still in flight
    }

    void concurrencySlots()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        t.setProvider(p, QStringLiteral("openai"), limits({}, {}, 2));
        QSignalSpy freed(&t, &RateLimitTracker::entryFreed);
        const auto a = t.admit(p, m, 1);
        const auto b = t.admit(p, m, 1);
        QVERIFY(a.allowed() && b.allowed());
        const auto c = t.admit(p, m, 1);
        QCOMPARE(c.block, Block::Concurrency);
        QCOMPARE(c.reason, QStringLiteral("concurrency: 2 of 2 slots in use"));
        QCOMPARE(t.status().first().inUse, 2);
        QCOMPARE(t.status().first().concurrencyLimit, 2);
        QCOMPARE(t.status().first().stateName(), QStringLiteral("tracking")); // busy, not exhausted
        t.release(a.ticket, 1);
        QCOMPARE(freed.size(), 1);
        QCOMPARE(t.inFlight(p, m), 1);
        QVERIFY(t.admit(p, m, 1).allowed());
        t.release(a.ticket, 1); // twice is harmless
        QCOMPARE(t.inFlight(p, m), 2);
    }

    void liveLimitChangesApplyAtOnceAndKeepCounters()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        t.setProvider(p, QStringLiteral("openai"), limits(5));
        for (int i = 0; i < 3; ++i)
            attempt(t, p, m, QStringLiteral("openai"), 200);
        t.setProvider(p, QStringLiteral("openai"), limits(2));
        QCOMPARE(t.admit(p, m, 1).block, Block::Manual);
        t.setProvider(p, QStringLiteral("openai"), limits(4));
        QVERIFY(t.admit(p, m, 1).allowed());
        QCOMPARE(t.admit(p, m, 1).block, Block::Manual);
    }
};

QTEST_GUILESS_MAIN(TestRateLimitAdmission)
#include "tst_ratelimitadmission.moc"
