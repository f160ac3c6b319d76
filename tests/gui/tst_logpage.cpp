// LogPage against a running proxy (GuiHarness): requests appear live and then with their log ids, the filters
// narrow the list, "Load more" pages with beforeId, the detail pane shows the attempts of a waterfall
// request, and the CSV export writes every matching row with proper quoting.

#include "attempttable.h"
#include "guiharness.h"
#include "logpage.h"
#include "requestcsv.h"
#include "requestdetailview.h"
#include "requestlogmodel.h"
#include "requeststore.h"
#include "servicebridge.h"
#include "simulatedprovider.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <memory>

namespace {

RequestLogModel *modelOf(LogPage &page)
{
    return qobject_cast<RequestLogModel *>(page.findChild<QTableView *>(QStringLiteral("logTable"))->model());
}

bool allStored(RequestLogModel *model)
{
    return model->liveCount() == 0;
}

void choose(LogPage &page, const QString &comboName, int index)
{
    auto *combo = page.findChild<QComboBox *>(comboName);
    QVERIFY(combo);
    combo->setCurrentIndex(index);
    emit combo->activated(index);
}

} // namespace

class TestLogPage : public QObject
{
    Q_OBJECT

private slots:
    void emptyState();
    void listsLiveRequestsAndFilters();
    void detailShowsWaterfallAttempts();
    void loadMorePagesWithBeforeId();
    void exportsCsv();
    void csvQuoting();
    void csvExportStopsWhenTheAppCloses();
};

void TestLogPage::emptyState()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    LogPage page(harness.bridge());
    QSignalSpy loaded(&page, &LogPage::pageLoaded);
    QVERIFY(loaded.wait(15000));
    auto *empty = page.findChild<QLabel *>(QStringLiteral("logEmpty"));
    QVERIFY(empty->text().contains(QStringLiteral("No requests recorded yet")));
    QVERIFY(!page.findChild<QPushButton *>(QStringLiteral("loadMore"))->isEnabled());

    GuiHarness::Options options;
    options.withStore = false;
    GuiHarness noLog(options);
    QVERIFY(noLog.start());
    LogPage off(noLog.bridge());
    QVERIFY(
        off.findChild<QLabel *>(QStringLiteral("logEmpty"))->text().contains(QStringLiteral("log is off")));
    QVERIFY(!off.findChild<QPushButton *>(QStringLiteral("exportCsv"))->isEnabled());
}

void TestLogPage::listsLiveRequestsAndFilters()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    LogPage page(harness.bridge());
    QSignalSpy loaded(&page, &LogPage::pageLoaded);
    QVERIFY(loaded.wait(15000));
    RequestLogModel *model = modelOf(page);
    QCOMPARE(model->rowCount(), 0);

    QCOMPARE(harness.chat(QStringLiteral("default")).status, 200);
    QCOMPARE(harness.chat(QStringLiteral("backup")).status, 200);
    // Live first, then with the ids the log gave them.
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(allStored(model), 15000);
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->at(0).record.chain, QStringLiteral("backup")); // newest first
    QVERIFY(model->at(0).id > model->at(1).id);
    QCOMPARE(model->index(0, RequestLogModel::ServedByColumn).data().toString(),
             QStringLiteral("beta / beta-model"));
    QVERIFY(model->index(0, RequestLogModel::StatusColumn).data().toString().contains(QStringLiteral("200")));

    // Chain filter.
    auto *chains = page.findChild<QComboBox *>(QStringLiteral("chainFilter"));
    loaded.clear();
    choose(page, QStringLiteral("chainFilter"), chains->findData(QStringLiteral("backup")));
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->at(0).record.chain, QStringLiteral("backup"));
    // A request on another chain does not show up under this filter; one on this chain does.
    QCOMPARE(harness.chat(QStringLiteral("default")).status, 200);
    QCOMPARE(harness.chat(QStringLiteral("backup")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(allStored(model), 15000);
    for (int row = 0; row < model->rowCount(); ++row)
        QCOMPARE(model->at(row).record.chain, QStringLiteral("backup"));

    // Provider filter on top of it.
    auto *providers = page.findChild<QComboBox *>(QStringLiteral("providerFilter"));
    loaded.clear();
    choose(page, QStringLiteral("providerFilter"), providers->findData(QStringLiteral("alpha")));
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 0);
    QVERIFY(page.findChild<QLabel *>(QStringLiteral("logEmpty"))
                ->text()
                .contains(QStringLiteral("No request matches")));

    // Status class: nothing failed.
    loaded.clear();
    choose(page, QStringLiteral("chainFilter"), 0);
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 2); // alpha served both requests on "default"
    loaded.clear();
    choose(page, QStringLiteral("providerFilter"), 0);
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 4);
    loaded.clear();
    choose(page, QStringLiteral("statusFilter"), 4); // failed (5xx)
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 0);
    loaded.clear();
    choose(page, QStringLiteral("statusFilter"), 1); // served (2xx)
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 4);
    loaded.clear();
    choose(page, QStringLiteral("periodFilter"), 1); // last hour
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), 4);
}

void TestLogPage::detailShowsWaterfallAttempts()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    LogPage page(harness.bridge());
    QSignalSpy loaded(&page, &LogPage::pageLoaded);
    QVERIFY(loaded.wait(15000));

    harness.runOnEngine([&] {
        harness.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(30));
    });
    const RequestRecord record = harness.chat(QStringLiteral("default"));
    QCOMPARE(record.provider, QStringLiteral("beta"));
    RequestLogModel *model = modelOf(page);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(allStored(model), 15000);
    QCOMPARE(model->index(0, RequestLogModel::AttemptsColumn).data().toString(), QStringLiteral("2"));

    auto *table = page.findChild<QTableView *>(QStringLiteral("logTable"));
    QSignalSpy detail(&page, &LogPage::detailLoaded);
    table->setCurrentIndex(model->index(0, 0));
    QVERIFY(detail.wait(15000));
    auto *view = page.findChild<RequestDetailView *>(QStringLiteral("requestDetail"));
    QCOMPARE(view->heading(), QStringLiteral("Request #%1").arg(model->at(0).id));
    QTableWidget *attempts = view->attempts();
    QCOMPARE(attempts->rowCount(), 2);
    QCOMPARE(attempts->item(0, 1)->text(), QStringLiteral("alpha / alpha-model"));
    QCOMPARE(attempts->item(0, 2)->text(), QStringLiteral("rate limited"));
    QCOMPARE(attempts->item(0, 3)->text(), QStringLiteral("429"));
    QVERIFY(!attempts->item(0, 5)->text().isEmpty());
    QCOMPARE(attempts->item(1, 1)->text(), QStringLiteral("beta / beta-model"));
    QCOMPARE(attempts->item(1, 2)->text(), QStringLiteral("served"));
}

void TestLogPage::loadMorePagesWithBeforeId()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    const qint64 base = QDateTime::currentMSecsSinceEpoch() - 60000;
    harness.runOnEngine([&] {
        for (int i = 0; i < LogPage::kPageSize + 7; ++i) {
            RequestRecord r;
            r.startedAtMs = base + i;
            r.chain = QStringLiteral("default");
            r.provider = QStringLiteral("alpha");
            r.model = QStringLiteral("alpha-model");
            r.status = 200;
            r.latencyMs = 10 + i;
            harness.store()->record(r);
        }
    });
    harness.flushStore();

    LogPage page(harness.bridge());
    QSignalSpy loaded(&page, &LogPage::pageLoaded);
    QVERIFY(loaded.wait(15000));
    RequestLogModel *model = modelOf(page);
    QCOMPARE(model->rowCount(), LogPage::kPageSize);
    auto *more = page.findChild<QPushButton *>(QStringLiteral("loadMore"));
    QVERIFY(more->isEnabled());
    const qint64 oldest = model->oldestStoredId();

    // A request arriving meanwhile must not shift the next page.
    QCOMPARE(harness.chat(QStringLiteral("default")).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), LogPage::kPageSize + 1, 15000);

    loaded.clear();
    more->click();
    QVERIFY(loaded.wait(15000));
    QCOMPARE(model->rowCount(), LogPage::kPageSize + 7 + 1);
    QVERIFY(model->oldestStoredId() < oldest);
    QVERIFY(!more->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(allStored(model), 15000);
    QSet<qint64> ids;
    for (int row = 0; row < model->rowCount(); ++row)
        ids.insert(model->at(row).id);
    QCOMPARE(ids.size(), model->rowCount()); // no row twice, none missing
}

void TestLogPage::exportsCsv()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    LogPage page(harness.bridge());
    QSignalSpy loaded(&page, &LogPage::pageLoaded);
    QVERIFY(loaded.wait(15000));
    QCOMPARE(harness.chat(QStringLiteral("default")).status, 200);
    QCOMPARE(harness.chat(QStringLiteral("backup")).status, 200);
    QCOMPARE(harness.chat(QStringLiteral("backup")).status, 200);
    harness.flushStore();

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("log.csv"));
    QSignalSpy exported(&page, &LogPage::csvExported);
    page.exportCsv(path);
    QVERIFY(exported.wait(15000));
    QCOMPARE(exported.at(0).at(0).toBool(), true);
    QCOMPARE(exported.at(0).at(1).toLongLong(), qint64(3));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 5); // header, three rows, and the empty rest after the last CRLF
    QVERIFY(lines.at(0).startsWith("id,time_utc,chain,provider,model,status"));
    QVERIFY(lines.at(1).endsWith('\r'));
    QVERIFY(lines.at(1).contains(",backup,beta,beta-model,200,1,"));
    QVERIFY(lines.at(3).contains(",default,alpha,alpha-model,200,1,"));
    QVERIFY(lines.at(4).isEmpty());

    // The export follows the filters.
    auto *chains = page.findChild<QComboBox *>(QStringLiteral("chainFilter"));
    choose(page, QStringLiteral("chainFilter"), chains->findData(QStringLiteral("default")));
    exported.clear();
    page.exportCsv(path);
    QVERIFY(exported.wait(15000));
    QCOMPARE(exported.at(0).at(1).toLongLong(), qint64(1));

    // A path that cannot be written is an error with a message.
    exported.clear();
    page.exportCsv(dir.filePath(QStringLiteral("missing/folder/log.csv")));
    QVERIFY(exported.wait(15000));
    QCOMPARE(exported.at(0).at(0).toBool(), false);
    QVERIFY(exported.at(0).at(2).toString().contains(QStringLiteral("Cannot write")));
    // Said in the page too (no dialog while the page is not shown).
    QVERIFY(page.findChild<QLabel *>(QStringLiteral("logStatus"))
                ->text()
                .startsWith(QStringLiteral("Export failed: Cannot write")));
}

void TestLogPage::csvQuoting()
{
    QCOMPARE(RequestCsv::cell(QStringLiteral("plain")), QStringLiteral("plain"));
    QCOMPARE(RequestCsv::cell(QStringLiteral("a,b")), QStringLiteral("\"a,b\""));
    QCOMPARE(RequestCsv::cell(QStringLiteral("say \"hi\"")), QStringLiteral("\"say \"\"hi\"\"\""));
    QCOMPARE(RequestCsv::cell(QStringLiteral("two\nlines")), QStringLiteral("\"two\nlines\""));
    QCOMPARE(RequestCsv::cell(QStringLiteral("=cmd()")), QStringLiteral("'=cmd()"));
    QCOMPARE(RequestCsv::cell(QStringLiteral("@x,y")), QStringLiteral("\"'@x,y\""));

    StoredRequest r;
    r.id = 7;
    r.attemptCount = 2;
    r.record.startedAtMs = 0;
    r.record.chain = QStringLiteral("my,chain");
    r.record.provider = QStringLiteral("groq");
    r.record.model = QStringLiteral("m");
    r.record.status = 429;
    r.record.error = QStringLiteral("all \"entries\" exhausted");
    QCOMPARE(RequestCsv::row(r),
             QStringLiteral("7,1970-01-01T00:00:00.000Z,\"my,chain\",groq,m,429,2,0,0,0,false,0,,"
                            "false,,\"all \"\"entries\"\" exhausted\","));
    r.record.replica = QStringLiteral("box-1:3429");
    QVERIFY(RequestCsv::row(r).endsWith(QLatin1String(",box-1:3429")));
    QVERIFY(RequestCsv::header().endsWith(QLatin1String(",error,replica")));
}

// The bridge's stats thread is asked to stop when the app closes: an export stops between pages (closing
// waits for one query, not the whole log) and leaves no partial file behind.
void TestLogPage::csvExportStopsWhenTheAppCloses()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    QCOMPARE(harness.chat(QStringLiteral("default")).status, 200);
    harness.flushStore();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("log.csv"));
    RequestStore *store = harness.store();
    RequestCsv::Result written;
    RequestCsv::Result cancelled;
    std::unique_ptr<QThread> worker(QThread::create([&] {
        written = RequestCsv::write(*store, RequestQuery(), path);
        QThread::currentThread()->requestInterruption();
        cancelled = RequestCsv::write(*store, RequestQuery(), dir.filePath(QStringLiteral("closing.csv")));
    }));
    worker->start();
    QVERIFY(worker->wait(30000));
    QVERIFY2(written.ok, qPrintable(written.error));
    QCOMPARE(written.rows, 1);
    QVERIFY(!cancelled.ok);
    QVERIFY(cancelled.error.contains(QStringLiteral("cancelled")));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("closing.csv"))));
}

QTEST_MAIN(TestLogPage)
#include "tst_logpage.moc"
