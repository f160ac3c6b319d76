// RequestQueue: per-chain FIFO, one retry in flight, re-queue keeps the front place and the deadline, size
// and time limits with the reference's errors, dropped owners, cancel, shutdown, retry-at hints and stats.

#include "clock.h"
#include "requestqueue.h"

#include <QSignalSpy>
#include <QTest>

#include <memory>

namespace {
const QString kFast = QStringLiteral("fast");
const QString kSlow = QStringLiteral("slow");

// What the queue asked of the requests, in order.
struct Journal
{
    QStringList retried;
    QList<std::pair<QString, ApiError>> failed;

    QStringList failedNames() const
    {
        QStringList names;
        for (const auto &entry : failed)
            names.append(entry.first);
        return names;
    }
};

// A request as the router would hold it: an owner object plus the two callbacks.
struct Request
{
    QString name;
    std::unique_ptr<QObject> owner = std::make_unique<QObject>();
    quint64 ticket = 0;

    quint64 enqueue(RequestQueue &queue, Journal &journal, const QString &chain, qint64 hintMs = 0)
    {
        const QString label = name;
        ticket = queue.enqueue(
            chain, owner.get(), [&journal, label] { journal.retried.append(label); },
            [&journal, label](const ApiError &error) {
                journal.failed.append({label, error});
            },
            hintMs);
        return ticket;
    }
};
} // namespace

class TestRequestQueue : public QObject
{
    Q_OBJECT

private slots:
    void fifoAcrossNotifies()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        QVERIFY(a.enqueue(queue, journal, kFast) != 0);
        QVERIFY(b.enqueue(queue, journal, kFast) != 0);
        QVERIFY(c.enqueue(queue, journal, kFast) != 0);
        QCOMPARE(queue.depth(kFast), 3);

        queue.notifyAvailable(kFast);
        QVERIFY(journal.retried.isEmpty()); // never inside the caller's call
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("a")});

        // a is in flight: more recoveries do not start a second retry on the chain.
        queue.notifyAvailable(kFast);
        queue.notifyAvailable(kFast);
        QTest::qWait(20);
        QCOMPARE(journal.retried, QStringList{QStringLiteral("a")});

        // a was served: the caller lets the next one go; a is forgotten without a failure.
        queue.drainNext(kFast);
        QCOMPARE(queue.depth(kFast), 2);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        queue.drainNext(kFast);
        QTRY_COMPARE(journal.retried.size(), 3);
        QCOMPARE(journal.retried.last(), QStringLiteral("c"));
        queue.drainNext(kFast);
        QCOMPARE(queue.depth(kFast), 0);
        QVERIFY(journal.failed.isEmpty());
    }

    void notifyDuringRetryIsReplayed()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.size(), 1);

        // Another entry freed while a's waterfall was running; a found nothing and came back: it goes again.
        queue.notifyAvailable(kFast);
        QCOMPARE(a.enqueue(queue, journal, kFast), a.ticket);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("a"), QStringLiteral("a")}));

        // Without a new recovery, a re-queue just waits.
        a.enqueue(queue, journal, kFast);
        QTest::qWait(20);
        QCOMPARE(journal.retried.size(), 2);
    }

    void fullQueueRefusesAtOnce()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        queue.setSettings({60000, 2});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        QVERIFY(a.enqueue(queue, journal, kFast) != 0);
        QVERIFY(b.enqueue(queue, journal, kFast) != 0);
        QSignalSpy depth(&queue, &RequestQueue::depthChanged);

        QCOMPARE(c.enqueue(queue, journal, kFast), quint64(0));
        QCOMPARE(journal.failedNames(), QStringList{QStringLiteral("c")}); // before enqueue returned
        const ApiError error = journal.failed.first().second;
        QCOMPARE(error.status, 503);
        QCOMPARE(error.kind, ApiError::Kind::Overloaded);
        QCOMPARE(error.code, QStringLiteral("queue_full"));
        QCOMPARE(error.message, QStringLiteral("Queue full (2 items) for chain \"fast\""));
        QCOMPARE(error.retryAfterSeconds, -1); // no reset known
        QCOMPARE(queue.depth(kFast), 2);
        QCOMPARE(depth.size(), 0);

        // The in-flight request counts, and its re-queue is never refused.
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.size(), 1);
        QCOMPARE(a.enqueue(queue, journal, kFast), a.ticket);
        QCOMPARE(journal.failed.size(), 1);
    }

    void fullQueueTellsWhenToComeBack()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        queue.setSettings({60000, 1});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast, clock.nowMs() + 29'500);
        QCOMPARE(b.enqueue(queue, journal, kFast), quint64(0));
        QCOMPARE(journal.failed.size(), 1);
        QCOMPARE(journal.failed.first().second.retryAfterSeconds, 30);
    }

    void timesOut()
    {
        SystemClock clock;
        RequestQueue queue(clock);
        queue.setSettings({50, 100});
        Journal journal;
        QSignalSpy depth(&queue, &RequestQueue::depthChanged);
        Request a{QStringLiteral("a")};
        QVERIFY(a.enqueue(queue, journal, kFast) != 0);

        QTRY_COMPARE_WITH_TIMEOUT(journal.failed.size(), 1, 10000);
        const ApiError error = journal.failed.first().second;
        QCOMPARE(journal.failed.first().first, QStringLiteral("a"));
        QCOMPARE(error.status, 503);
        QCOMPARE(error.kind, ApiError::Kind::Overloaded);
        QCOMPARE(error.code, QStringLiteral("queue_timeout"));
        QCOMPARE(error.message, QStringLiteral("Queue timeout after 50ms for chain \"fast\""));
        QCOMPARE(queue.depth(kFast), 0);
        QVERIFY(journal.retried.isEmpty());
        QCOMPARE(depth.size(), 2);
        QCOMPARE(depth.last().at(1).toInt(), 0);

        // The ticket is gone: a late notify or cancel does nothing.
        queue.notifyAvailable(kFast);
        queue.cancel(a.ticket);
        QTest::qWait(20);
        QVERIFY(journal.retried.isEmpty());
        QCOMPARE(journal.failed.size(), 1);
    }

    void settingsApplyToLaterRequests()
    {
        SystemClock clock;
        RequestQueue queue(clock);
        queue.setSettings({60000, 100});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast);
        queue.setSettings({30, 100});
        b.enqueue(queue, journal, kFast);
        QTRY_COMPARE_WITH_TIMEOUT(journal.failedNames(), QStringList{QStringLiteral("b")}, 10000);
        QCOMPARE(queue.depth(kFast), 1);
    }

    void destroyedOwnerIsDroppedSilently()
    {
        SystemClock clock;
        RequestQueue queue(clock);
        queue.setSettings({40, 100});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        QSignalSpy depth(&queue, &RequestQueue::depthChanged);

        a.owner.reset(); // the client left while waiting
        QCOMPARE(queue.depth(kFast), 1);
        QCOMPARE(depth.size(), 1);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("b")});
        // b is in flight (no timeout); a never times out either: it is gone.
        QTest::qWait(150);
        QVERIFY(journal.failed.isEmpty());
        QCOMPARE(journal.retried, QStringList{QStringLiteral("b")});
    }

    void destroyedInFlightOwnerPassesItsTurn()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        queue.notifyAvailable(kFast); // a is chosen...
        a.owner.reset();              // ...but its client leaves before the retry runs
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("b")});
        QTest::qWait(20);
        QCOMPARE(journal.retried, QStringList{QStringLiteral("b")}); // a never retried
        QVERIFY(journal.failed.isEmpty());
    }

    void cancel()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        c.enqueue(queue, journal, kFast);

        queue.cancel(a.ticket);
        queue.cancel(a.ticket); // twice: no-op
        queue.cancel(12345);    // unknown: no-op
        QCOMPARE(queue.depth(kFast), 2);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("b")});

        // The client of the in-flight request left: the next one gets the chance.
        queue.cancel(b.ticket);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("b"), QStringLiteral("c")}));
        QCOMPARE(queue.depth(kFast), 1);
        QVERIFY(journal.failed.isEmpty());

        // A cancelled request that comes back is a new one, at the back.
        QVERIFY(a.enqueue(queue, journal, kFast) != 0);
        QCOMPARE(queue.depth(kFast), 2);
    }

    void rejectAllOnShutdown()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        c.enqueue(queue, journal, kSlow);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.size(), 1); // a is in flight
        QSignalSpy depth(&queue, &RequestQueue::depthChanged);

        queue.rejectAll();
        QCOMPARE(journal.failedNames(), (QStringList{QStringLiteral("b"), QStringLiteral("c")}));
        for (const auto &[name, error] : std::as_const(journal.failed)) {
            QCOMPARE(error.status, 503);
            QCOMPARE(error.code, QStringLiteral("queue_shutdown"));
            QCOMPARE(error.kind, ApiError::Kind::Overloaded);
        }
        QVERIFY(journal.failed.last().second.message.contains(QStringLiteral("\"slow\"")));
        QCOMPARE(queue.depth(kFast), 0);
        QCOMPARE(queue.depth(kSlow), 0);
        QVERIFY(queue.stats().isEmpty());
        QCOMPARE(depth.size(), 2);

        // a's waterfall comes back exhausted: it is answered with queue_shutdown, not held.
        QCOMPARE(a.enqueue(queue, journal, kFast), quint64(0));
        QCOMPARE(journal.failed.size(), 3);
        QCOMPARE(journal.failed.last().first, QStringLiteral("a"));
        QCOMPARE(journal.failed.last().second.code, QStringLiteral("queue_shutdown"));
        QCOMPARE(queue.depth(kFast), 0);
        QTest::qWait(20);
        QCOMPARE(journal.retried.size(), 1);
    }

    void retryHintWakesHead()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast, clock.nowMs() + 60'000);
        b.enqueue(queue, journal, kFast, clock.nowMs() + 30); // an earlier reset wins
        // Nobody calls notifyAvailable: the queue wakes itself and retries the head.
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("a")});

        // a finds nothing yet and comes back with a hint already past: retried again, after a short pause.
        clock.advance(1000);
        a.enqueue(queue, journal, kFast, clock.nowMs() - 500);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("a"), QStringLiteral("a")}));
        queue.drainNext(kFast);
        QTRY_COMPARE(journal.retried.size(), 3);
        QCOMPARE(journal.retried.last(), QStringLiteral("b"));
    }

    void requeueKeepsFrontAndDeadline()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        queue.setSettings({60'000, 100});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        const quint64 ticketA = a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.size(), 1);

        clock.advance(1000);
        QCOMPARE(a.enqueue(queue, journal, kFast), ticketA); // same ticket
        QCOMPARE(queue.depth(kFast), 2);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("a"), QStringLiteral("a")})); // still first

        // 50 ms of its minute left: the timeout counts from the first enqueue, not from the re-queue.
        clock.advance(58'950);
        QCOMPARE(a.enqueue(queue, journal, kFast), ticketA);
        QTRY_COMPARE_WITH_TIMEOUT(journal.failedNames(), QStringList{QStringLiteral("a")}, 10000);
        QCOMPARE(journal.failed.first().second.code, QStringLiteral("queue_timeout"));
        QCOMPARE(journal.failed.first().second.message,
                 QStringLiteral("Queue timeout after 60000ms for chain \"fast\""));
        QCOMPARE(queue.depth(kFast), 1);

        // b's turn; it comes back after its deadline passed: refused at once.
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.last(), QStringLiteral("b"));
        clock.advance(1000);
        QCOMPARE(b.enqueue(queue, journal, kFast), quint64(0));
        QCOMPARE(journal.failedNames(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        QCOMPARE(journal.failed.last().second.code, QStringLiteral("queue_timeout"));
        QCOMPARE(queue.depth(kFast), 0);
    }

    void stats()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        QVERIFY(queue.stats().isEmpty());
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        a.enqueue(queue, journal, kSlow);
        clock.advance(1500);
        b.enqueue(queue, journal, kSlow);
        c.enqueue(queue, journal, kFast);
        clock.advance(500);

        const QList<RequestQueue::QueueStats> stats = queue.stats();
        QCOMPARE(stats.size(), 2);
        QCOMPARE(stats.at(0).chainName, kFast);
        QCOMPARE(stats.at(0).depth, 1);
        QCOMPARE(stats.at(0).oldestItemAgeMs, 500);
        QCOMPARE(stats.at(1).chainName, kSlow);
        QCOMPARE(stats.at(1).depth, 2);
        QCOMPARE(stats.at(1).oldestItemAgeMs, 2000);

        // The oldest leaves: the age is the next one's.
        queue.cancel(a.ticket);
        QCOMPARE(queue.stats().at(1).oldestItemAgeMs, 500);
        queue.cancel(b.ticket);
        queue.cancel(c.ticket);
        QVERIFY(queue.stats().isEmpty());
    }

    void chainsAreIndependent()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        queue.setSettings({60'000, 1});
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")}, c{QStringLiteral("c")};
        QVERIFY(a.enqueue(queue, journal, kFast) != 0);
        QVERIFY(b.enqueue(queue, journal, kSlow) != 0); // fast being full does not matter
        QCOMPARE(c.enqueue(queue, journal, kFast), quint64(0));

        queue.notifyAvailable(kSlow);
        QTRY_COMPARE(journal.retried, QStringList{QStringLiteral("b")});
        queue.notifyAvailable(kFast); // slow's in-flight request does not hold fast back
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("b"), QStringLiteral("a")}));
        queue.drainNext(kSlow);
        QCOMPARE(queue.depth(kSlow), 0);
        QCOMPARE(queue.depth(kFast), 1);
        queue.notifyAvailable(QStringLiteral("unknown")); // no such queue: nothing happens
        queue.drainNext(QStringLiteral("unknown"));
    }

    void requestMovingToAnotherChainLeavesTheOld()
    {
        ManualClock clock;
        RequestQueue queue(clock);
        Journal journal;
        Request a{QStringLiteral("a")}, b{QStringLiteral("b")};
        a.enqueue(queue, journal, kFast);
        b.enqueue(queue, journal, kFast);
        queue.notifyAvailable(kFast);
        QTRY_COMPARE(journal.retried.size(), 1);

        // The config changed under a: it now waits on another chain; fast's turn goes to b.
        QVERIFY(a.enqueue(queue, journal, kSlow) != 0);
        QCOMPARE(queue.depth(kFast), 1);
        QCOMPARE(queue.depth(kSlow), 1);
        QTRY_COMPARE(journal.retried, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }
};

QTEST_GUILESS_MAIN(TestRequestQueue)
#include "tst_requestqueue.moc"
