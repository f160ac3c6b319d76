// EventLog: bounded, ids increase, recent(afterId) pages forward, every append is signalled.

#include "clock.h"
#include "eventlog.h"

#include <QSignalSpy>
#include <QTest>

class TestEventLog : public QObject
{
    Q_OBJECT

private slots:
    void stampsIdAndTime()
    {
        ManualClock clock;
        EventLog log(clock);
        QSignalSpy added(&log, &EventLog::eventAdded);
        const EventLog::Event first =
            log.append(QStringLiteral("config_reloaded"), QStringLiteral("info"), QStringLiteral("reloaded"));
        clock.advance(1500);
        EventLog::Event second;
        second.kind = QStringLiteral("cooldown");
        second.level = QStringLiteral("warn");
        second.provider = QStringLiteral("groq");
        second.model = QStringLiteral("llama");
        second.untilMs = clock.nowMs() + 60'000;
        second.id = 99;    // ignored: the log numbers events
        second.timeMs = 5; // ignored: the log stamps them
        second = log.append(second);

        QCOMPARE(first.id, 1);
        QCOMPARE(second.id, 2);
        QCOMPARE(first.timeMs, ManualClock().nowMs());
        QCOMPARE(second.timeMs, first.timeMs + 1500);
        QCOMPARE(log.lastId(), 2);
        QCOMPARE(added.size(), 2);
        const auto signalled = added.at(1).at(0).value<EventLog::Event>();
        QCOMPARE(signalled.id, 2);
        QCOMPARE(signalled.provider, QStringLiteral("groq"));
        QCOMPARE(signalled.untilMs, second.untilMs);

        const QList<EventLog::Event> all = log.recent();
        QCOMPARE(all.size(), 2);
        QCOMPARE(all.at(0).kind, QStringLiteral("config_reloaded"));
        QCOMPARE(all.at(1).kind, QStringLiteral("cooldown"));
    }

    void isBounded()
    {
        ManualClock clock;
        EventLog log(clock, 10);
        QCOMPARE(log.capacity(), 10);
        for (int i = 1; i <= 25; ++i)
            log.append(QStringLiteral("cooldown"), QStringLiteral("warn"), QString::number(i));
        const QList<EventLog::Event> all = log.recent(0, 1000);
        QCOMPARE(all.size(), 10);
        QCOMPARE(all.first().id, 16); // the oldest dropped off
        QCOMPARE(all.last().id, 25);
        QCOMPARE(all.last().message, QStringLiteral("25"));
        QCOMPARE(log.lastId(), 25); // ids are never reused
        log.append(QStringLiteral("cooldown"), QStringLiteral("warn"), QStringLiteral("26"));
        QCOMPARE(log.recent(0, 1000).first().id, 17);
    }

    void defaultCapacityIsFiveHundred()
    {
        ManualClock clock;
        EventLog log(clock);
        for (int i = 0; i < 600; ++i)
            log.append(QStringLiteral("cooldown"), QStringLiteral("warn"), QString::number(i));
        QCOMPARE(log.recent(0, 10'000).size(), 500);
    }

    void idsIncrease()
    {
        ManualClock clock;
        EventLog log(clock);
        for (int i = 0; i < 50; ++i)
            log.append(QStringLiteral("cooldown"), QStringLiteral("warn"), QString::number(i));
        const QList<EventLog::Event> all = log.recent(0, 50);
        QCOMPARE(all.size(), 50);
        for (int i = 1; i < all.size(); ++i)
            QVERIFY(all.at(i).id > all.at(i - 1).id);
    }

    void recentAfterIdAndLimit()
    {
        ManualClock clock;
        EventLog log(clock);
        for (int i = 1; i <= 20; ++i)
            log.append(QStringLiteral("cooldown"), QStringLiteral("warn"), QString::number(i));

        // afterId: only newer events, oldest first.
        QList<EventLog::Event> after = log.recent(15);
        QCOMPARE(after.size(), 5);
        QCOMPARE(after.first().id, 16);
        QCOMPARE(after.last().id, 20);
        QVERIFY(log.recent(20).isEmpty());
        QVERIFY(log.recent(1000).isEmpty());

        // limit: the newest ones.
        const QList<EventLog::Event> newest = log.recent(0, 3);
        QCOMPARE(newest.size(), 3);
        QCOMPARE(newest.first().id, 18);
        QCOMPARE(newest.last().id, 20);
        after = log.recent(5, 4);
        QCOMPARE(after.size(), 4);
        QCOMPARE(after.first().id, 17);
        QVERIFY(log.recent(0, 0).isEmpty());

        // A follower polls with the last id it saw and misses nothing.
        qint64 seen = 0;
        int received = 0;
        for (const auto &e : log.recent(seen, 100)) {
            seen = e.id;
            ++received;
        }
        log.append(QStringLiteral("recovered"), QStringLiteral("info"), QStringLiteral("new"));
        const QList<EventLog::Event> next = log.recent(seen);
        QCOMPARE(received, 20);
        QCOMPARE(next.size(), 1);
        QCOMPARE(next.first().message, QStringLiteral("new"));
    }
};

QTEST_GUILESS_MAIN(TestEventLog)
#include "tst_eventlog.moc"
