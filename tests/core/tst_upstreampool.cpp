// UpstreamPool: six requests per host per manager, a new manager when all are full (up to the bound), and
// the managers a burst added are deleted once they have been idle, never one with a request in flight.

#include "upstreampool.h"

#include <QNetworkAccessManager>
#include <QtTest>

class TestUpstreamPool : public QObject
{
    Q_OBJECT

private slots:
    void growsPastSixRequestsPerHost()
    {
        UpstreamPool pool(1, 4, 60000);
        const QString host = QStringLiteral("http://127.0.0.1:1");
        QList<QNetworkAccessManager *> got;
        for (int i = 0; i < 6; ++i)
            got.append(pool.acquire(host));
        QCOMPARE(pool.managerCount(), 1);
        got.append(pool.acquire(host));
        QCOMPARE(pool.managerCount(), 2);
        QVERIFY(got.last() != got.first());
        // Another host still has all six slots of the first manager.
        QCOMPARE(pool.acquire(QStringLiteral("http://127.0.0.1:2")), got.first());
        // The bound: 4 managers, then the least loaded is shared.
        for (int i = 0; i < 30; ++i)
            pool.acquire(host);
        QCOMPARE(pool.managerCount(), 4);
    }

    void idleExtraManagersAreDeletedOnlyWhenThePoolIsIdle()
    {
        UpstreamPool pool(1, 8, 20);
        const QString host = QStringLiteral("http://127.0.0.1:1");
        QList<QNetworkAccessManager *> got;
        for (int i = 0; i < 13; ++i)
            got.append(pool.acquire(host));
        QCOMPARE(pool.managerCount(), 3);
        QCOMPARE(pool.activeRequests(), 13);
        QPointer<QNetworkAccessManager> third = got.last();
        pool.release(got.last(), host); // the third manager is idle, the others are busy: nothing goes
        QTest::qWait(100);
        QCOMPARE(pool.managerCount(), 3);
        QVERIFY(!third.isNull());
        for (int i = 0; i < 12; ++i)
            pool.release(got.at(i), host);
        QCOMPARE(pool.activeRequests(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(pool.managerCount(), 1, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(third.isNull(), 10000);
        // The initial manager stays and serves again.
        QCOMPARE(pool.acquire(host), got.first());
    }
};

QTEST_GUILESS_MAIN(TestUpstreamPool)
#include "tst_upstreampool.moc"
