// The cooldown decisions, on a manual clock.

#include "clock.h"
#include "ratelimittracker.h"

#include <QSignalSpy>
#include <QtTest>

class TestRateLimitTracker : public QObject
{
    Q_OBJECT

private slots:
    void cooldownLastsUntilItsEnd()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        QSignalSpy started(&tracker, &RateLimitTracker::cooldownStarted);
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("m")));
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 30'000, RateLimitTracker::Kind::RateLimited,
                             QStringLiteral("429"));
        QCOMPARE(started.size(), 1);
        clock.advance(29'999);
        const auto cd = tracker.cooldown(QStringLiteral("p"), QStringLiteral("m"));
        QVERIFY(cd);
        QCOMPARE(cd->reason, QStringLiteral("429"));
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("other"))); // per provider+model
        clock.advance(1);
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("m")));
    }

    void longerCooldownIsNotShortened()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 3'600'000, RateLimitTracker::Kind::RateLimited,
                             QStringLiteral("daily cap"));
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 60'000, RateLimitTracker::Kind::RateLimited,
                             QStringLiteral("default"));
        clock.advance(120'000);
        const auto cd = tracker.cooldown(QStringLiteral("p"), QStringLiteral("m"));
        QVERIFY(cd);
        QCOMPARE(cd->reason, QStringLiteral("daily cap"));
    }

    void repeatedFailuresEscalate()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        RateLimitTracker::Policy policy;
        policy.failureThreshold = 3;
        policy.failureCooldownMs = 10'000;
        policy.failureCooldownMaxMs = 30'000;
        tracker.setPolicy(policy);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        tracker.recordFailure(p, m, QStringLiteral("500"));
        tracker.recordFailure(p, m, QStringLiteral("500"));
        QVERIFY(!tracker.cooldown(p, m)); // two failures are not yet a pattern
        tracker.recordFailure(p, m, QStringLiteral("500"));
        auto cd = tracker.cooldown(p, m);
        QVERIFY(cd);
        QCOMPARE(cd->kind, RateLimitTracker::Kind::Failing);
        QCOMPARE(cd->untilMs - clock.nowMs(), 10'000);
        clock.advance(10'000);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("timeout"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 20'000);
        clock.advance(20'000);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("timeout"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 30'000); // capped
        // A success resets the streak and the escalation.
        clock.advance(30'000);
        tracker.recordSuccess(p, m);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("500"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 10'000);
    }

    void midStreamFailuresFollowTheReferenceSettings()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        RateLimitTracker::Policy policy;
        policy.midStreamFailureThreshold = 2;
        policy.midStreamCooldownMs = 120'000;
        policy.midStreamCooldownMaxMs = 300'000;
        tracker.setPolicy(policy);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QVERIFY(!tracker.cooldown(p, m));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 120'000);
        QCOMPARE(tracker.cooldown(p, m)->kind, RateLimitTracker::Kind::MidStream);
        clock.advance(120'000);
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 240'000);
        clock.advance(240'000);
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 300'000);
    }
};

QTEST_GUILESS_MAIN(TestRateLimitTracker)
#include "tst_ratelimittracker.moc"
