// The Providers page and its dialog, driven like a user would (offscreen): add, edit with an empty key (the
// stored key stays), refused saves that keep the dialog open, delete refused while a chain uses the provider,
// delete, "Fetch models" and "Add to chain…", and the status text from the limiter snapshot.

#include "configloader.h"
#include "guiharness.h"
#include "providerdialog.h"
#include "providerspage.h"
#include "simulatedprovider.h"
#include "statusbanner.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QInputDialog>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

using GuiTest::child;
using GuiTest::whenModal;

namespace {

Config onDisk(const GuiHarness &harness)
{
    const ConfigLoadResult loaded = ConfigLoader::loadFile(harness.configPath());
    if (!loaded.ok())
        qWarning("config on disk: %s", qPrintable(loaded.errors.join(QLatin1String("; "))));
    return loaded.config.value_or(Config());
}

int rowOf(QTableWidget *table, const QString &id)
{
    for (int row = 0; row < table->rowCount(); ++row) {
        if (table->item(row, 0)->data(Qt::UserRole).toString() == id)
            return row;
    }
    return -1;
}

} // namespace

class TestProvidersPage : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void listsProviders();
    void addThroughDialog();
    void addRefusedKeepsDialogOpen();
    void editWithEmptyKeyKeepsKey();
    void editChangesKeyAndLimits();
    void deleteRefusedWhileUsed();
    void deleteUnused();
    void fetchModelsAndAddToChain();
    void statusAndRequestsTodayFollowTheEngine();
    void statusText();

private:
    std::unique_ptr<GuiHarness> m_harness;
    std::unique_ptr<ProvidersPage> m_page;
};

void TestProvidersPage::init()
{
    m_harness = std::make_unique<GuiHarness>();
    QVERIFY(m_harness->start());
    m_page = std::make_unique<ProvidersPage>(m_harness->bridge());
    m_page->resize(900, 600);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
}

void TestProvidersPage::cleanup()
{
    GuiTest::nextGeneration();
    m_page.reset();
    m_harness.reset();
}

void TestProvidersPage::listsProviders()
{
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 2);
    const int alpha = rowOf(table, QStringLiteral("alpha"));
    QVERIFY(alpha >= 0);
    QCOMPARE(table->item(alpha, 1)->text(), QStringLiteral("Groq"));
    QVERIFY(table->item(alpha, 2)->text().startsWith(QLatin1String("http://127.0.0.1:")));
    QCOMPARE(table->item(alpha, 3)->text(), QStringLiteral("Available"));
    // Today's requests come from the request log on the stats thread.
    QVERIFY(GuiHarness::waitFor([&] { return table->item(alpha, 4)->text() == QLatin1String("0"); }));
}

void TestProvidersPage::addThroughDialog()
{
    bool handled = false;
    whenModal<ProviderDialog>([&](ProviderDialog *dialog) {
        handled = true;
        auto *type = child<QComboBox>(dialog, "providerType");
        auto *url = child<QLineEdit>(dialog, "providerBaseUrl");
        // The type fills in its default base URL.
        type->setCurrentIndex(type->findData(QStringLiteral("cerebras")));
        QCOMPARE(url->text(), QStringLiteral("https://api.cerebras.ai/v1"));
        type->setCurrentIndex(type->findData(QStringLiteral("mistral")));
        QCOMPARE(url->text(), QStringLiteral("https://api.mistral.ai/v1"));
        QTest::keyClicks(child<QLineEdit>(dialog, "providerId"), QStringLiteral("gamma"));
        QTest::keyClicks(child<QLineEdit>(dialog, "providerName"), QStringLiteral("Gamma AI"));
        auto *key = child<QLineEdit>(dialog, "providerApiKey");
        QCOMPARE(key->echoMode(), QLineEdit::Password);
        QTest::keyClicks(key, QStringLiteral("sk-gamma-123"));
        QTest::mouseClick(child<QToolButton>(dialog, "revealKey"), Qt::LeftButton);
        QCOMPARE(key->echoMode(), QLineEdit::Normal);
        child<QSpinBox>(dialog, "providerTimeout")->setValue(45000);
        child<QSpinBox>(dialog, "limitRequestsPerMinute")->setValue(30);
        child<QSpinBox>(dialog, "limitConcurrentRequests")->setValue(2);
        QTest::mouseClick(child<QPushButton>(dialog, "saveButton"), Qt::LeftButton);
    });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "addProvider"), Qt::LeftButton);
    QVERIFY(handled);

    const ProviderConfig *added = m_harness->bridge()->fileConfig()->provider(QStringLiteral("gamma"));
    QVERIFY(added);
    QCOMPARE(added->name, QStringLiteral("Gamma AI"));
    QCOMPARE(added->type, QStringLiteral("mistral"));
    QCOMPARE(added->apiKey, QStringLiteral("sk-gamma-123"));
    QVERIFY(added->baseUrl.isEmpty()); // the type's default, not written out
    QCOMPARE(added->timeoutMs, std::optional<qint64>(45000));
    QCOMPARE(added->rateLimits.requestsPerMinute, std::optional<int>(30));
    QCOMPARE(added->rateLimits.concurrentRequests, std::optional<int>(2));
    QVERIFY(!added->rateLimits.requestsPerDay);

    const Config disk = onDisk(*m_harness);
    const ProviderConfig *saved = disk.provider(QStringLiteral("gamma"));
    QVERIFY(saved);
    QCOMPARE(saved->apiKey, QStringLiteral("sk-gamma-123"));
    QCOMPARE(saved->rateLimits.requestsPerMinute, std::optional<int>(30));

    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    QVERIFY(GuiHarness::waitFor([&] { return table->rowCount() == 3; }));
    const int row = rowOf(table, QStringLiteral("gamma"));
    QVERIFY(row >= 0);
    QCOMPARE(table->item(row, 0)->text(), QStringLiteral("Gamma AI · gamma"));
    QCOMPARE(table->item(row, 2)->text(), QStringLiteral("https://api.mistral.ai/v1"));
    auto *banner = child<StatusBanner>(m_page.get(), "providersBanner");
    QVERIFY(banner->text().contains(QLatin1String("gamma")));
}

void TestProvidersPage::addRefusedKeepsDialogOpen()
{
    const QByteArray before = [&] {
        QFile file(m_harness->configPath());
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }();
    QStringList messages;
    bool stayedOpen = false;
    whenModal<ProviderDialog>([&](ProviderDialog *dialog) {
        auto *banner = child<StatusBanner>(dialog, "providerDialogBanner");
        auto *save = child<QPushButton>(dialog, "saveButton");
        // An id that exists: the dialog says so instead of replacing that provider.
        QTest::keyClicks(child<QLineEdit>(dialog, "providerId"), QStringLiteral("alpha"));
        QTest::mouseClick(save, Qt::LeftButton);
        messages << banner->text();
        // A generic server without a base URL: the core refuses, the dialog shows why and stays open.
        auto *id = child<QLineEdit>(dialog, "providerId");
        id->clear();
        QTest::keyClicks(id, QStringLiteral("local"));
        auto *type = child<QComboBox>(dialog, "providerType");
        type->setCurrentIndex(type->findData(QStringLiteral("generic-openai")));
        QVERIFY(child<QLineEdit>(dialog, "providerBaseUrl")->text().isEmpty());
        banner->clearMessage();
        QTest::mouseClick(save, Qt::LeftButton);
        GuiHarness::waitFor([&] { return !banner->text().isEmpty(); });
        messages << banner->text();
        stayedOpen = dialog->isVisible();
        dialog->reject();
    });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "addProvider"), Qt::LeftButton);
    QCOMPARE(messages.size(), 2);
    QVERIFY2(messages.at(0).contains(QLatin1String("exists already")), qPrintable(messages.at(0)));
    QVERIFY2(messages.at(1).startsWith(QLatin1String("Error: ")), qPrintable(messages.at(1)));
    QVERIFY2(messages.at(1).contains(QLatin1String("baseUrl")), qPrintable(messages.at(1)));
    QVERIFY(stayedOpen);
    QVERIFY(!m_harness->bridge()->fileConfig()->provider(QStringLiteral("local")));
    QCOMPARE(m_harness->bridge()->fileConfig()->provider(QStringLiteral("alpha"))->type,
             QStringLiteral("groq"));
    QFile file(m_harness->configPath());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), before);
}

void TestProvidersPage::editWithEmptyKeyKeepsKey()
{
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    table->setFocus();
    table->selectRow(rowOf(table, QStringLiteral("beta")));
    QString placeholder;
    QString shownKey = QStringLiteral("not read");
    whenModal<ProviderDialog>([&](ProviderDialog *dialog) {
        auto *key = child<QLineEdit>(dialog, "providerApiKey");
        placeholder = key->placeholderText();
        shownKey = key->text();
        QVERIFY(child<QLineEdit>(dialog, "providerId")->isReadOnly());
        auto *timeout = child<QSpinBox>(dialog, "providerTimeout");
        timeout->setValue(20000);
        QTest::mouseClick(child<QPushButton>(dialog, "saveButton"), Qt::LeftButton);
    });
    QTest::keyClick(table, Qt::Key_Return); // Enter edits the selected provider
    QVERIFY2(placeholder.contains(QLatin1String("keep")), qPrintable(placeholder));
    QVERIFY(shownKey.isEmpty()); // the stored key is never shown
    const ProviderConfig *beta = m_harness->bridge()->fileConfig()->provider(QStringLiteral("beta"));
    QVERIFY(beta);
    QCOMPARE(beta->timeoutMs, std::optional<qint64>(20000));
    QCOMPARE(beta->apiKey, QStringLiteral("sk-upstream-beta"));
    const Config disk = onDisk(*m_harness);
    QCOMPARE(disk.provider(QStringLiteral("beta"))->apiKey, QStringLiteral("sk-upstream-beta"));
    QCOMPARE(disk.provider(QStringLiteral("beta"))->timeoutMs, std::optional<qint64>(20000));
}

void TestProvidersPage::editChangesKeyAndLimits()
{
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    const int row = rowOf(table, QStringLiteral("alpha"));
    whenModal<ProviderDialog>([&](ProviderDialog *dialog) {
        QCOMPARE(child<QSpinBox>(dialog, "limitRequestsPerDay")->value(), 0);
        QTest::keyClicks(child<QLineEdit>(dialog, "providerApiKey"), QStringLiteral("sk-new-alpha"));
        child<QSpinBox>(dialog, "limitRequestsPerDay")->setValue(1000);
        auto *scope = child<QComboBox>(dialog, "limitScope");
        scope->setCurrentIndex(scope->findData(QStringLiteral("provider")));
        QTest::mouseClick(child<QCheckBox>(dialog, "providerEnabled"), Qt::LeftButton);
        QTest::mouseClick(child<QPushButton>(dialog, "saveButton"), Qt::LeftButton);
    });
    // Double-click opens the editor too.
    const QRect cell = table->visualItemRect(table->item(row, 0));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, Qt::NoModifier, cell.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, Qt::NoModifier, cell.center());
    const ProviderConfig *alpha = m_harness->bridge()->fileConfig()->provider(QStringLiteral("alpha"));
    QCOMPARE(alpha->apiKey, QStringLiteral("sk-new-alpha"));
    QCOMPARE(alpha->rateLimits.requestsPerDay, std::optional<int>(1000));
    QCOMPARE(alpha->rateLimits.scope, ManualRateLimits::Scope::Provider);
    QVERIFY(!alpha->enabled);
    QVERIFY(!alpha->baseUrl.isEmpty()); // the simulated server's address, kept
    const Config disk = onDisk(*m_harness);
    QCOMPARE(disk.provider(QStringLiteral("alpha"))->apiKey, QStringLiteral("sk-new-alpha"));
    QVERIFY(GuiHarness::waitFor([&] {
        return table->item(rowOf(table, QStringLiteral("alpha")), 0)
            ->text()
            .contains(QLatin1String("disabled"));
    }));
    QCOMPARE(table->item(rowOf(table, QStringLiteral("alpha")), 3)->text(), QStringLiteral("Disabled"));
}

void TestProvidersPage::deleteRefusedWhileUsed()
{
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    table->setFocus();
    table->selectRow(rowOf(table, QStringLiteral("beta")));
    QString warning;
    whenModal<QMessageBox>([&](QMessageBox *box) {
        warning = box->informativeText();
        box->button(QMessageBox::Yes)->click();
    });
    QTest::keyClick(table, Qt::Key_Delete);
    QVERIFY2(warning.contains(QLatin1String("default")) && warning.contains(QLatin1String("backup")),
             qPrintable(warning));
    auto *banner = child<StatusBanner>(m_page.get(), "providersBanner");
    QVERIFY(GuiHarness::waitFor([&] { return !banner->text().isEmpty(); }));
    QCOMPARE(banner->kind(), StatusBanner::Kind::Error);
    QVERIFY2(banner->text().contains(QLatin1String("referenced by chains: default, backup")),
             qPrintable(banner->text()));
    QVERIFY(banner->isVisible());
    QVERIFY(m_harness->bridge()->fileConfig()->provider(QStringLiteral("beta")));
    QVERIFY(onDisk(*m_harness).provider(QStringLiteral("beta")));
    QCOMPARE(table->rowCount(), 2);
}

void TestProvidersPage::deleteUnused()
{
    ProviderConfig extra;
    extra.id = QStringLiteral("spare");
    extra.name = QStringLiteral("spare");
    extra.type = QStringLiteral("groq");
    bool done = false;
    m_harness->bridge()->upsertProvider(extra, false, this, [&](const AdminResult &r) { done = r.ok(); });
    QVERIFY(GuiHarness::waitFor([&] { return done; }));
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    QVERIFY(GuiHarness::waitFor([&] { return table->rowCount() == 3; }));

    // Cancel first: nothing happens.
    table->selectRow(rowOf(table, QStringLiteral("spare")));
    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Cancel)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "deleteProvider"), Qt::LeftButton);
    QTest::qWait(50);
    QVERIFY(m_harness->bridge()->fileConfig()->provider(QStringLiteral("spare")));

    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Yes)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "deleteProvider"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor(
        [&] { return !m_harness->bridge()->fileConfig()->provider(QStringLiteral("spare")); }));
    QVERIFY(!onDisk(*m_harness).provider(QStringLiteral("spare")));
    QVERIFY(GuiHarness::waitFor([&] { return table->rowCount() == 2; }));
    QCOMPARE(child<StatusBanner>(m_page.get(), "providersBanner")->kind(), StatusBanner::Kind::Success);
}

void TestProvidersPage::fetchModelsAndAddToChain()
{
    m_harness->runOnEngine([this] {
        m_harness->provider(QStringLiteral("beta"))
            ->setModels({QStringLiteral("beta-model"), QStringLiteral("zeta/free-one:free")});
    });
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    table->selectRow(rowOf(table, QStringLiteral("beta")));
    QStringList rows;
    QString chainMessage;
    whenModal<ProviderDialog>([&](ProviderDialog *dialog) {
        child<QTabWidget>(dialog, "providerTabs")->setCurrentIndex(2);
        auto *list = child<QTreeWidget>(dialog, "modelList");
        QTest::mouseClick(child<QPushButton>(dialog, "fetchModels"), Qt::LeftButton);
        GuiHarness::waitFor([&] { return list->topLevelItemCount() == 2; });
        for (int i = 0; i < list->topLevelItemCount(); ++i) {
            const QTreeWidgetItem *item = list->topLevelItem(i);
            rows << item->text(0) + QLatin1Char('|') + item->text(1) + QLatin1Char('|') + item->text(2);
        }
        auto *add = child<QPushButton>(dialog, "addToChain");
        QVERIFY(!add->isEnabled());
        list->setCurrentItem(list->topLevelItem(1)); // sorted: zeta/free-one:free
        QVERIFY(add->isEnabled());
        whenModal<QInputDialog>([](QInputDialog *pick) {
            pick->setTextValue(QStringLiteral("backup"));
            pick->accept();
        });
        QTest::mouseClick(add, Qt::LeftButton);
        auto *banner = child<StatusBanner>(dialog, "providerDialogBanner");
        GuiHarness::waitFor([&] { return !banner->text().isEmpty(); });
        chainMessage = banner->text();
        dialog->reject();
    });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "editProvider"), Qt::LeftButton);
    const QString context = QLocale().toString(131072);
    QCOMPARE(rows, QStringList({QStringLiteral("beta-model|") + context + QStringLiteral("|Free"),
                                QStringLiteral("zeta/free-one:free|") + context + QStringLiteral("|Free")}));
    QVERIFY2(chainMessage.contains(QLatin1String("added to chain backup")), qPrintable(chainMessage));
    const ChainConfig *backup = m_harness->bridge()->fileConfig()->chain(QStringLiteral("backup"));
    QCOMPARE(backup->entries.size(), 2);
    QCOMPARE(backup->entries.last().provider, QStringLiteral("beta"));
    QCOMPARE(backup->entries.last().model, QStringLiteral("zeta/free-one:free"));
    QCOMPARE(onDisk(*m_harness).chain(QStringLiteral("backup"))->entries.size(), 2);
}

void TestProvidersPage::statusAndRequestsTodayFollowTheEngine()
{
    // alpha answers one request, then 429 with a reset in 90 s: the second request fails over to beta.
    m_harness->runOnEngine(
        [this] { m_harness->provider(QStringLiteral("alpha"))->setRequestLimit(1, 90000); });
    for (int i = 0; i < 2; ++i)
        QVERIFY(m_harness->chat(QStringLiteral("default")).status != 0);
    m_harness->flushStore();
    auto *table = child<QTableWidget>(m_page.get(), "providersTable");
    const int alpha = rowOf(table, QStringLiteral("alpha"));
    const int beta = rowOf(table, QStringLiteral("beta"));
    QVERIFY(GuiHarness::waitFor(
        [&] { return table->item(alpha, 3)->text().startsWith(QLatin1String("Cooling down 1:")); }));
    QCOMPARE(table->item(beta, 3)->text(), QStringLiteral("Available"));
    QVERIFY(table->item(alpha, 3)->toolTip().contains(QLatin1String("alpha-model")));
    // Each request counts for the provider that answered it: alpha the first, beta the second.
    QVERIFY(GuiHarness::waitFor([&] {
        return table->item(alpha, 4)->text() == QLatin1String("1") &&
               table->item(beta, 4)->text() == QLatin1String("1");
    }));
}

void TestProvidersPage::statusText()
{
    using Pair = RateLimitTracker::PairStatus;
    const qint64 now = 1'000'000;
    const auto pair = [](const char *provider, const char *model, Pair::State state, qint64 until) {
        Pair p;
        p.provider = QLatin1String(provider);
        p.model = QLatin1String(model);
        p.state = state;
        p.cooldownUntilMs = until;
        return p;
    };
    const Pair a = pair("p", "m1", Pair::State::Available, 0);
    const Pair b = pair("p", "m2", Pair::State::Exhausted, now + 83'000);
    const Pair c = pair("p", "m1", Pair::State::Exhausted, 0);
    const Pair pool = pair("p", "*", Pair::State::Exhausted, now + 3'725'000);
    const Pair other = pair("q", "m1", Pair::State::Exhausted, now + 5000);

    QCOMPARE(ProvidersPage::statusText(QStringLiteral("p"), {a, other}, now), QStringLiteral("Available"));
    QCOMPARE(ProvidersPage::statusText(QStringLiteral("p"), {b}, now), QStringLiteral("Cooling down 1:23"));
    QCOMPARE(ProvidersPage::statusText(QStringLiteral("p"), {c}, now), QStringLiteral("Exhausted"));
    qint64 next = 0;
    QString details;
    QCOMPARE(ProvidersPage::statusText(QStringLiteral("p"), {a, b}, now, &next, &details),
             QStringLiteral("Available; 1 of 2 models cooling down (1:23)"));
    QCOMPARE(next, now + 83'000);
    QVERIFY(details.contains(QLatin1String("m2")));
    QCOMPARE(ProvidersPage::statusText(QStringLiteral("p"), {a, pool}, now),
             QStringLiteral("Cooling down 1:02:05"));
    QCOMPARE(ProvidersPage::countdown(2 * 86'400'000 + 4 * 3'600'000), QStringLiteral("2 d 4 h"));
}

QTEST_MAIN(TestProvidersPage)
#include "tst_providerspage.moc"
