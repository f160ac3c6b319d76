// LimiterPersistence: the tracker's state is restored once at start, saved at most once a second after
// changes (a burst is one save), and saved at once by flush(); also through a real RequestStore across a
// "restart" (a new store and a new tracker on the same file).

#include "clock.h"
#include "limiterpersistence.h"
#include "limiterstatestore.h"
#include "ratelimittracker.h"
#include "requeststore.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

namespace {

using Kind = RateLimitTracker::Kind;

constexpr qint64 kHourMs = 3'600'000;

// The store as LimiterPersistence sees it, in memory.
class MemoryStore : public LimiterStateStore
{
public:
    QByteArray loadLimiterState() override
    {
        ++loads;
        return saved;
    }
    void saveLimiterState(const QByteArray &state) override
    {
        ++saves;
        saved = state;
    }

    QByteArray saved;
    int loads = 0;
    int saves = 0;
};

void coolDown(RateLimitTracker &tracker, const QString &model, qint64 ms = kHourMs)
{
    tracker.markCooldown(QStringLiteral("groq"), model, ms, Kind::RateLimited,
                         QStringLiteral("429 rate limited"));
}

bool exhausted(const RateLimitTracker &tracker, const QString &model)
{
    for (const RateLimitTracker::PairStatus &pair : tracker.status()) {
        if (pair.provider == QLatin1String("groq") && pair.model == model)
            return pair.exhausted();
    }
    return false;
}

} // namespace

class TestLimiterPersistence : public QObject
{
    Q_OBJECT

private slots:
    void restoresTheSavedStateAtConstruction()
    {
        ManualClock clock;
        MemoryStore store;
        {
            RateLimitTracker before(clock);
            coolDown(before, QStringLiteral("llama"));
            store.saved = before.saveState();
        }
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        QCOMPARE(store.loads, 1);
        QVERIFY(persistence.restored());
        const auto cooldown = tracker.cooldown(QStringLiteral("groq"), QStringLiteral("llama"));
        QVERIFY(cooldown);
        QCOMPARE(cooldown->untilMs, clock.nowMs() + kHourMs);
        QVERIFY(exhausted(tracker, QStringLiteral("llama")));
        // Taking the saved state back is not a change to save.
        QCOMPARE(persistence.saveDueInMs(), -1);
        QTest::qWait(20);
        QCOMPARE(store.saves, 0);
    }

    void whatExpiredMeanwhileIsDropped()
    {
        ManualClock clock;
        MemoryStore store;
        {
            RateLimitTracker before(clock);
            coolDown(before, QStringLiteral("short"), 60'000);
            coolDown(before, QStringLiteral("long"), kHourMs);
            store.saved = before.saveState();
        }
        clock.advance(10 * 60'000); // the process was down for ten minutes
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        QVERIFY(persistence.restored());
        QVERIFY(!tracker.cooldown(QStringLiteral("groq"), QStringLiteral("short")));
        QVERIFY(tracker.cooldown(QStringLiteral("groq"), QStringLiteral("long")));
    }

    void nothingSavedOrGarbageStartsFresh_data()
    {
        QTest::addColumn<QByteArray>("saved");
        QTest::newRow("nothing saved") << QByteArray();
        QTest::newRow("not JSON") << QByteArrayLiteral("\x01garbage");
        QTest::newRow("unknown version") << QByteArrayLiteral("{\"version\":999,\"scopes\":[]}");
    }
    void nothingSavedOrGarbageStartsFresh()
    {
        QFETCH(QByteArray, saved);
        ManualClock clock;
        MemoryStore store;
        store.saved = saved;
        if (!saved.isEmpty())
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("saved rate-limit state")));
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        QVERIFY(!persistence.restored());
        QVERIFY(tracker.status().isEmpty());
        // It still saves; the next save replaces what could not be read.
        coolDown(tracker, QStringLiteral("llama"));
        QTRY_COMPARE(store.saves, 1);
        QCOMPARE(store.saved, tracker.saveState());
    }

    void aBurstOfChangesIsOneSave()
    {
        ManualClock clock;
        MemoryStore store;
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        for (int i = 0; i < 5; ++i)
            coolDown(tracker, QStringLiteral("m%1").arg(i));
        // The first change after a quiet second is saved on the next turn of the event loop, with the others.
        QCOMPARE(store.saves, 0);
        QCOMPARE(persistence.saveDueInMs(), 0);
        QTRY_COMPARE(store.saves, 1);
        QCOMPARE(store.saved, tracker.saveState());
        QCOMPARE(persistence.saveCount(), 1);
        QTest::qWait(50);
        QCOMPARE(store.saves, 1);
    }

    void savesAtMostOnceASecond()
    {
        ManualClock clock;
        MemoryStore store;
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        coolDown(tracker, QStringLiteral("a"));
        QTRY_COMPARE(store.saves, 1);

        // 300 ms after that save: the next one waits for the rest of the second.
        clock.advance(300);
        coolDown(tracker, QStringLiteral("b"));
        coolDown(tracker, QStringLiteral("c"));
        const int due = persistence.saveDueInMs();
        QVERIFY2(due > 600 && due < 800, qPrintable(QString::number(due))); // a coarse timer: ~5%
        QElapsedTimer waited;
        waited.start();
        QTest::qWait(200);
        QCOMPARE(store.saves, 1);
        QTRY_COMPARE_WITH_TIMEOUT(store.saves, 2, 5000);
        QVERIFY2(waited.elapsed() >= 600, qPrintable(QString::number(waited.elapsed())));
        QCOMPARE(store.saved, tracker.saveState()); // b and c in one save

        // After a quiet second a change is saved at once again.
        clock.advance(5000);
        coolDown(tracker, QStringLiteral("d"));
        QCOMPARE(persistence.saveDueInMs(), 0);
        QTRY_COMPARE(store.saves, 3);
    }

    void flushSavesNow()
    {
        ManualClock clock;
        MemoryStore store;
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        persistence.flush(); // nothing changed: the state is saved all the same (shutdown)
        QCOMPARE(store.saves, 1);

        coolDown(tracker, QStringLiteral("a"));
        QVERIFY(persistence.saveDueInMs() >= 0);
        persistence.flush();
        QCOMPARE(store.saves, 2);
        QCOMPARE(store.saved, tracker.saveState());
        QCOMPARE(persistence.saveDueInMs(), -1); // the waiting save was done with it
        QTest::qWait(50);
        QCOMPARE(store.saves, 2);
    }

    void withoutAStoreNothingHappens()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, nullptr, clock);
        QVERIFY(!persistence.restored());
        coolDown(tracker, QStringLiteral("a"));
        persistence.flush();
        QTest::qWait(20);
        QCOMPARE(persistence.saveCount(), 0);
    }

    void survivesARestartThroughTheRequestLog()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        RequestStore::Options options;
        options.path = dir.filePath(QStringLiteral("observability.db"));
        options.flushIntervalMs = 60'000; // nothing reaches the disk before the store closes
        ManualClock clock;
        {
            RequestStore store(options, clock);
            QVERIFY(store.open(nullptr));
            RateLimitTracker tracker(clock);
            LimiterPersistence persistence(tracker, &store, clock);
            QVERIFY(!persistence.restored());
            coolDown(tracker, QStringLiteral("llama"));
            persistence.flush(); // as the engine does before it closes the store
        }
        clock.advance(60'000);
        RequestStore store(options, clock);
        QVERIFY(store.open(nullptr));
        RateLimitTracker tracker(clock);
        LimiterPersistence persistence(tracker, &store, clock);
        QVERIFY(persistence.restored());
        const auto cooldown = tracker.cooldown(QStringLiteral("groq"), QStringLiteral("llama"));
        QVERIFY(cooldown);
        QCOMPARE(cooldown->untilMs, clock.nowMs() - 60'000 + kHourMs);
    }
};

QTEST_GUILESS_MAIN(TestLimiterPersistence)
#include "tst_limiterpersistence.moc"
