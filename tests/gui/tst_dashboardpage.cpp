// DashboardPage against a running proxy (GuiHarness): the cards, usage tables, recent requests and the chart
// follow a served request live and agree with the request log afterwards; a cooling entry shows its status in
// words with a countdown and a Reset that clears it.

#include "dashboardpage.h"
#include "displayformat.h"
#include "guiharness.h"
#include "ratelimitview.h"
#include "servicebridge.h"
#include "simulatedprovider.h"
#include "statcard.h"
#include "tokenchart.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTest>

namespace {

QString text(QTableWidget *table, int row, int column)
{
    QTableWidgetItem *item = table->item(row, column);
    return item ? item->text() : QString();
}

int findRow(QTableWidget *table, int column, const QString &value)
{
    for (int row = 0; row < table->rowCount(); ++row) {
        if (text(table, row, column).contains(value))
            return row;
    }
    return -1;
}

} // namespace

class TestDashboardPage : public QObject
{
    Q_OBJECT

private slots:
    void emptyLog();
    void reflectsAServedRequest();
    void waterfallAndCooldownWithReset();
    void withoutRequestLogCountsLive();
    void chartBucketsAndScrolls();
};

void TestDashboardPage::emptyLog()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    DashboardPage page(harness.bridge());
    QSignalSpy loaded(&page, &DashboardPage::statsLoaded);
    QVERIFY(loaded.wait(15000));

    auto *requests = page.findChild<StatCard *>(QStringLiteral("requestsCard"));
    QVERIFY(requests);
    QCOMPARE(requests->value(), QStringLiteral("0"));
    QCOMPARE(page.findChild<StatCard *>(QStringLiteral("latencyCard"))->value(), QStringLiteral("–"));
    auto *recent = page.findChild<QTableWidget *>(QStringLiteral("recentRequests"));
    auto *stack = qobject_cast<QStackedWidget *>(recent->parentWidget());
    QVERIFY(stack);
    QCOMPARE(stack->currentIndex(), 0); // the empty-state text
    auto *empty = qobject_cast<QLabel *>(stack->widget(0));
    QVERIFY(empty->text().contains(QStringLiteral("No requests yet")));
    QCOMPARE(page.findChild<TokenChart *>(QStringLiteral("tokenChart"))->totalTokens(), qint64(0));

    // Every chain entry is listed even before the limiter has seen it.
    auto *limits = page.findChild<RateLimitView *>(QStringLiteral("rateLimits"));
    QCOMPARE(limits->rowCount(), 2);
    QCOMPARE(text(limits->table(), 0, 1), QStringLiteral("Available"));
}

void TestDashboardPage::reflectsAServedRequest()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    DashboardPage page(harness.bridge());
    QSignalSpy loaded(&page, &DashboardPage::statsLoaded);
    QVERIFY(loaded.wait(15000));

    const RequestRecord record = harness.chat(QStringLiteral("default"), true);
    QCOMPARE(record.status, 200);
    QVERIFY(record.totalTokens > 0);

    auto *requests = page.findChild<StatCard *>(QStringLiteral("requestsCard"));
    auto *tokens = page.findChild<StatCard *>(QStringLiteral("tokensCard"));
    auto *providers = page.findChild<QTableWidget *>(QStringLiteral("providerUsage"));
    auto *chains = page.findChild<QTableWidget *>(QStringLiteral("chainUsage"));
    auto *recent = page.findChild<QTableWidget *>(QStringLiteral("recentRequests"));
    auto *chart = page.findChild<TokenChart *>(QStringLiteral("tokenChart"));

    // Live, from requestFinished.
    QTRY_COMPARE_WITH_TIMEOUT(requests->value(), QStringLiteral("1"), 15000);
    QCOMPARE(tokens->value(), QLocale().toString(record.totalTokens));
    QVERIFY(requests->detail().contains(QStringLiteral("1 in total")));
    const int alpha = findRow(providers, 0, QStringLiteral("alpha"));
    QVERIFY(alpha >= 0);
    QCOMPARE(text(providers, alpha, 1), QStringLiteral("1"));
    QCOMPARE(text(providers, alpha, 2), QLocale().toString(record.totalTokens));
    QVERIFY(findRow(chains, 0, QStringLiteral("default")) >= 0);
    QCOMPARE(recent->rowCount(), 1);
    QVERIFY(text(recent, 0, 2).contains(QStringLiteral("alpha")));
    QVERIFY(text(recent, 0, 3).contains(QStringLiteral("200")));
    QCOMPARE(chart->totalTokens(), record.totalTokens);
    QVERIFY(chart->providers().contains(QStringLiteral("alpha")));
    QVERIFY(page.findChild<StatCard *>(QStringLiteral("latencyCard"))->value() != QStringLiteral("–"));

    // Then from the request log: the refresh agrees with what was counted live.
    loaded.clear();
    QVERIFY(loaded.wait(DashboardPage::kRefreshMs + 15000));
    QCOMPARE(requests->value(), QStringLiteral("1"));
    QCOMPARE(text(providers, findRow(providers, 0, QStringLiteral("alpha")), 1), QStringLiteral("1"));
    QCOMPARE(recent->rowCount(), 1);
    QCOMPARE(text(recent, 0, 4), QStringLiteral("1")); // attempts, as the log stores them
    QCOMPARE(chart->totalTokens(), record.totalTokens);

    // The 30-day view reads the daily rollups: the same tokens, one bar per day.
    auto *period = page.findChild<QComboBox *>(QStringLiteral("chartPeriod"));
    loaded.clear();
    period->setCurrentIndex(1);
    QVERIFY(loaded.wait(15000));
    QCOMPARE(chart->bucket(), TokenChart::Bucket::Day);
    QCOMPARE(chart->bucketCount(), 30);
    QCOMPARE(chart->totalTokens(), record.totalTokens);

    // A fresh page reads the same from the log alone.
    DashboardPage second(harness.bridge());
    QSignalSpy secondLoaded(&second, &DashboardPage::statsLoaded);
    QVERIFY(secondLoaded.wait(15000));
    QCOMPARE(second.findChild<StatCard *>(QStringLiteral("requestsCard"))->value(), QStringLiteral("1"));
}

void TestDashboardPage::waterfallAndCooldownWithReset()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    DashboardPage page(harness.bridge());
    QSignalSpy loaded(&page, &DashboardPage::statsLoaded);
    QVERIFY(loaded.wait(15000));

    harness.runOnEngine([&] {
        harness.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(600));
    });
    const RequestRecord record = harness.chat(QStringLiteral("default"), true);
    QCOMPARE(record.status, 200);
    QCOMPARE(record.provider, QStringLiteral("beta"));
    QCOMPARE(record.attempts.size(), 2);

    auto *waterfall = page.findChild<StatCard *>(QStringLiteral("waterfallCard"));
    QTRY_COMPARE_WITH_TIMEOUT(waterfall->value(), DisplayFormat::percent(1, 1), 15000);
    QVERIFY(waterfall->detail().contains(QStringLiteral("1 used a later entry")));

    // alpha cools down: said in words, with a countdown and a Reset button.
    auto *limits = page.findChild<RateLimitView *>(QStringLiteral("rateLimits"));
    QTableWidget *table = limits->table();
    QTRY_VERIFY_WITH_TIMEOUT(findRow(table, 1, QStringLiteral("Cooling down")) >= 0, 15000);
    const int row = findRow(table, 1, QStringLiteral("Cooling down"));
    QVERIFY(text(table, row, 0).contains(QStringLiteral("alpha")));
    QVERIFY2(!text(table, row, 2).isEmpty() && text(table, row, 2) != QStringLiteral("ready"),
             qPrintable(text(table, row, 2)));
    auto *reset = qobject_cast<QPushButton *>(table->cellWidget(row, 4));
    QVERIFY(reset);
    QCOMPARE(reset->text(), QStringLiteral("Reset"));
    QVERIFY(!reset->accessibleName().isEmpty());
    // Only the cooling entry offers a Reset.
    int buttons = 0;
    for (int r = 0; r < table->rowCount(); ++r)
        buttons += table->cellWidget(r, 4) ? 1 : 0;
    QCOMPARE(buttons, 1);

    // The countdown runs on its own, between snapshots.
    const QString before = text(table, row, 2);
    QTRY_VERIFY_WITH_TIMEOUT(text(table, findRow(table, 0, QStringLiteral("alpha")), 2) != before, 5000);

    // A new snapshot may have rebuilt the rows meanwhile: take the button as it is now.
    reset =
        qobject_cast<QPushButton *>(table->cellWidget(findRow(table, 1, QStringLiteral("Cooling down")), 4));
    QVERIFY(reset);
    reset->click();
    QTRY_VERIFY_WITH_TIMEOUT(findRow(table, 1, QStringLiteral("Cooling down")) < 0, 15000);
    const int alpha = findRow(table, 0, QStringLiteral("alpha"));
    QVERIFY(alpha >= 0);
    QVERIFY(!table->cellWidget(alpha, 4));

    // And the next request goes to alpha again.
    QCOMPARE(harness.chat(QStringLiteral("default"), true).provider, QStringLiteral("alpha"));
}

void TestDashboardPage::withoutRequestLogCountsLive()
{
    GuiHarness::Options options;
    options.withStore = false;
    GuiHarness harness(options);
    QVERIFY(harness.start());
    DashboardPage page(harness.bridge());
    page.show();
    auto *notice = page.findChild<QLabel *>(QStringLiteral("dashboardNotice"));
    QVERIFY(notice && notice->isVisible());
    QVERIFY(notice->text().contains(QStringLiteral("request log is off")));

    QCOMPARE(harness.chat(QStringLiteral("backup"), true).status, 200);
    auto *requests = page.findChild<StatCard *>(QStringLiteral("requestsCard"));
    QTRY_COMPARE_WITH_TIMEOUT(requests->value(), QStringLiteral("1"), 15000);
    auto *chains = page.findChild<QTableWidget *>(QStringLiteral("chainUsage"));
    QVERIFY(findRow(chains, 0, QStringLiteral("backup")) >= 0);
}

void TestDashboardPage::chartBucketsAndScrolls()
{
    constexpr qint64 hour = 3600 * 1000;
    const qint64 now = 1'800'000'000'000 + 30 * 60 * 1000; // half past an hour
    const qint64 since = now - 23 * hour;
    TimeseriesPoint a;
    a.bucketStartMs = (since / hour) * hour;
    a.provider = QStringLiteral("groq");
    a.totalTokens = 100;
    TimeseriesPoint b;
    b.bucketStartMs = (now / hour) * hour;
    b.provider = QStringLiteral("cerebras");
    b.totalTokens = 50;
    TimeseriesPoint outside = a;
    outside.bucketStartMs -= 5 * hour; // before the window: not drawn
    outside.totalTokens = 1000;

    TokenChart chart;
    chart.resize(600, 260);
    QVERIFY(chart.grab().width() > 0); // empty state paints
    QVERIFY(chart.summary().contains(QStringLiteral("No tokens")));
    chart.setSeries({a, b, outside}, TokenChart::Bucket::Hour, since, now);
    QCOMPARE(chart.bucketCount(), 24);
    QCOMPARE(chart.totalTokens(), qint64(150));
    QCOMPARE(chart.providers(), (QStringList{QStringLiteral("groq"), QStringLiteral("cerebras")}));
    QVERIFY(chart.summary().contains(QStringLiteral("groq: 100")));
    QVERIFY(chart.accessibleDescription().contains(QStringLiteral("cerebras: 50")));
    QVERIFY(chart.grab().width() > 0);

    chart.addTokens(now, QStringLiteral("groq"), 7); // same hour
    QCOMPARE(chart.totalTokens(), qint64(157));
    chart.addTokens(now + hour, QStringLiteral("mistral"), 3); // the next hour scrolls the oldest out
    QCOMPARE(chart.bucketCount(), 24);
    QCOMPARE(chart.totalTokens(), qint64(60));
    QVERIFY(chart.providers().contains(QStringLiteral("mistral")));
    chart.addTokens(since - 3 * hour, QStringLiteral("groq"), 9); // too old for the window
    QCOMPARE(chart.totalTokens(), qint64(60));

    chart.setSeries({}, TokenChart::Bucket::Day, now - 29 * 24 * hour, now);
    QCOMPARE(chart.bucketCount(), 30);
    QCOMPARE(chart.totalTokens(), qint64(0));
}

QTEST_MAIN(TestDashboardPage)
#include "tst_dashboardpage.moc"
