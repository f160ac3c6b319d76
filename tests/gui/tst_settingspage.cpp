// The Settings page driven like a user would (offscreen): values the core refuses (port, bind address, a
// too-short timeout) are shown with its message and change nothing, in the running config or on disk; good
// values apply, restart-only ones say so; Revert; API keys generated (random, shown once), copied and
// revoked.

#include "apikeyspanel.h"
#include "clientkey.h"
#include "configkeys.h"
#include "configloader.h"
#include "guiharness.h"
#include "settingspage.h"
#include "statusbanner.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTest>

using GuiTest::child;
using GuiTest::whenModal;

namespace {

// Types `text` into a spin box as a user would (select all, type).
void typeInto(QSpinBox *box, const QString &text)
{
    box->setFocus();
    box->selectAll();
    QTest::keyClicks(box, text);
    QTest::keyClick(box, Qt::Key_Tab);
}

} // namespace

class TestSettingsPage : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void showsTheFileSettings();
    void refusesBadValues_data();
    void refusesBadValues();
    void appliesGoodValues();
    void restartOnlySettingSaysSo();
    void restartMarksFollowTheKeyTable();
    void revert();
    void generateCopyRevokeKey();
    void lastKeyCannotBeRevoked();
    void adminKeysListedWhenSet();
    void keyFormat();

private:
    QByteArray fileBytes() const;
    void clickApply();

    std::unique_ptr<GuiHarness> m_harness;
    std::unique_ptr<SettingsPage> m_page;
    StatusBanner *m_banner = nullptr;
};

void TestSettingsPage::init()
{
    m_harness = std::make_unique<GuiHarness>();
    QVERIFY(m_harness->start());
    m_page = std::make_unique<SettingsPage>(m_harness->bridge());
    m_page->resize(900, 800);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
    m_banner = child<StatusBanner>(m_page.get(), "settingsBanner");
    QVERIFY(m_banner);
}

void TestSettingsPage::cleanup()
{
    GuiTest::nextGeneration();
    m_page.reset();
    m_harness.reset();
}

QByteArray TestSettingsPage::fileBytes() const
{
    QFile file(m_harness->configPath());
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void TestSettingsPage::clickApply()
{
    auto *apply = child<QPushButton>(m_page.get(), "applySettings");
    QVERIFY(apply->isEnabled());
    m_banner->clearMessage();
    QTest::mouseClick(apply, Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return !m_banner->text().isEmpty(); }));
}

void TestSettingsPage::showsTheFileSettings()
{
    QCOMPARE(child<QSpinBox>(m_page.get(), "port")->value(), 3429);
    QCOMPARE(child<QLineEdit>(m_page.get(), "bindAddress")->text(), QStringLiteral("127.0.0.1"));
    QCOMPARE(child<QComboBox>(m_page.get(), "defaultChain")->currentText(), QStringLiteral("default"));
    QCOMPARE(child<QComboBox>(m_page.get(), "defaultChain")->count(), 2);
    QCOMPARE(child<QSpinBox>(m_page.get(), "requestTimeoutMs")->value(), 30000);
    QCOMPARE(child<QSpinBox>(m_page.get(), "logRetentionDays")->value(), 30);
    QVERIFY(!child<QPushButton>(m_page.get(), "applySettings")->isEnabled());
    // The key list is masked: the key itself is nowhere in it.
    auto *keys = child<QListWidget>(m_page.get(), "apiKeyList");
    QCOMPARE(keys->count(), 1);
    QVERIFY(!keys->item(0)->text().contains(QLatin1String(GuiHarness::kApiKey)));
    QVERIFY(child<QWidget>(m_page.get(), "adminKeysBox")->isHidden());
}

void TestSettingsPage::refusesBadValues_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("message");
    QTest::newRow("port 0") << "port"
                            << "0"
                            << "settings.port";
    QTest::newRow("bind address") << "bindAddress"
                                  << "my laptop"
                                  << "settings.host";
    QTest::newRow("cooldown under a second") << "cooldownDefaultMs"
                                             << "500"
                                             << "settings.cooldownDefaultMs";
    QTest::newRow("empty queue") << "queueMaxSize"
                                 << "0"
                                 << "settings.queueMaxSize";
    QTest::newRow("no retention") << "logRetentionDays"
                                  << "0"
                                  << "settings.logRetentionDays";
}

void TestSettingsPage::refusesBadValues()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, message);
    const QByteArray before = fileBytes();
    const Settings running = m_harness->bridge()->fileConfig()->settings;
    if (field == QLatin1String("queueMaxSize"))
        QTest::mouseClick(child<QCheckBox>(m_page.get(), "queueMode"), Qt::LeftButton);
    if (field == QLatin1String("allowedHosts")) {
        child<QPlainTextEdit>(m_page.get(), "allowedHosts")->setPlainText(value);
    } else if (field == QLatin1String("bindAddress")) {
        auto *edit = child<QLineEdit>(m_page.get(), "bindAddress");
        edit->selectAll();
        QTest::keyClicks(edit, value);
    } else {
        typeInto(child<QSpinBox>(m_page.get(), field.toLatin1().constData()), value);
    }
    clickApply();
    QCOMPARE(m_banner->kind(), StatusBanner::Kind::Error);
    QVERIFY(m_banner->isVisible());
    QVERIFY2(m_banner->text().contains(message), qPrintable(m_banner->text()));
    // Nothing changed, and the form keeps the value to correct it.
    QCOMPARE(fileBytes(), before);
    const Settings after = m_harness->bridge()->fileConfig()->settings;
    QCOMPARE(after.port, running.port);
    QCOMPARE(after.host, running.host);
    QCOMPARE(after.cooldownDefaultMs, running.cooldownDefaultMs);
    QCOMPARE(after.queueMode, running.queueMode);
    QVERIFY(m_page->hasUnappliedChanges());
}

void TestSettingsPage::appliesGoodValues()
{
    QTest::mouseClick(child<QCheckBox>(m_page.get(), "queueMode"), Qt::LeftButton);
    typeInto(child<QSpinBox>(m_page.get(), "queueMaxSize"), QStringLiteral("7"));
    typeInto(child<QSpinBox>(m_page.get(), "requestTimeoutMs"), QStringLiteral("45000"));
    auto *chain = child<QComboBox>(m_page.get(), "defaultChain");
    chain->setCurrentIndex(chain->findData(QStringLiteral("backup")));
    child<QPlainTextEdit>(m_page.get(), "allowedHosts")
        ->setPlainText(QStringLiteral("my-box.local\n\n.example.com\n"));
    clickApply();
    QCOMPARE(m_banner->kind(), StatusBanner::Kind::Success);
    const Settings &s = m_harness->bridge()->fileConfig()->settings;
    QVERIFY(s.queueMode);
    QCOMPARE(s.queueMaxSize, 7);
    QCOMPARE(s.requestTimeoutMs, 45000);
    QCOMPARE(s.defaultChain, QStringLiteral("backup"));
    QCOMPARE(s.allowedHosts, QStringList({QStringLiteral("my-box.local"), QStringLiteral(".example.com")}));
    QCOMPARE(m_harness->bridge()->config()->settings.queueMaxSize, 7); // applied live
    const ConfigLoadResult disk = ConfigLoader::loadFile(m_harness->configPath());
    QVERIFY(disk.ok());
    QCOMPARE(disk.config->settings.queueMaxSize, 7);
    QCOMPARE(disk.config->settings.defaultChain, QStringLiteral("backup"));
    QCOMPARE(disk.config->settings.apiKeys, QStringList{QLatin1String(GuiHarness::kApiKey)});
    QVERIFY(!m_page->hasUnappliedChanges());
}

void TestSettingsPage::restartOnlySettingSaysSo()
{
    typeInto(child<QSpinBox>(m_page.get(), "port"), QStringLiteral("4555"));
    clickApply();
    QCOMPARE(m_banner->kind(), StatusBanner::Kind::Success);
    QVERIFY2(m_banner->text().contains(QLatin1String("takes effect after a restart")),
             qPrintable(m_banner->text()));
    QCOMPARE(m_harness->bridge()->fileConfig()->settings.port, 4555);
    QCOMPARE(m_harness->bridge()->config()->settings.port, 3429); // still running on the old one
    QCOMPARE(ConfigLoader::loadFile(m_harness->configPath()).config->settings.port, 4555);
    // The form shows the file's value.
    QCOMPARE(child<QSpinBox>(m_page.get(), "port")->value(), 4555);
}

// Every field of the form is labelled "after restart" exactly when the core's key table says so, and shows
// the table's description as its tooltip.
void TestSettingsPage::restartMarksFollowTheKeyTable()
{
    int checked = 0;
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        const QString objectName =
            k.name == QByteArrayView("host") ? QStringLiteral("bindAddress") : QString::fromLatin1(k.name);
        auto *field = m_page->findChild<QWidget *>(objectName);
        if (!field || !*k.group)
            continue; // API and admin keys have their own panel
        ++checked;
        QCOMPARE(field->toolTip(), k.translatedDescription());
        if (qobject_cast<QCheckBox *>(field))
            continue; // a check box carries its own text
        auto *label = qobject_cast<QLabel *>(
            qobject_cast<QFormLayout *>(field->parentWidget()->layout())->labelForField(field));
        QVERIFY2(label, k.name);
        QCOMPARE(label->text().contains(QLatin1String("(after restart)")), k.restartOnly);
    }
    QCOMPARE(checked, 19); // every setting of the form
}

void TestSettingsPage::revert()
{
    typeInto(child<QSpinBox>(m_page.get(), "streamIdleTimeoutMs"), QStringLiteral("9000"));
    QVERIFY(m_page->hasUnappliedChanges());
    QVERIFY(child<QPushButton>(m_page.get(), "revertSettings")->isEnabled());
    QTest::mouseClick(child<QPushButton>(m_page.get(), "revertSettings"), Qt::LeftButton);
    QCOMPARE(child<QSpinBox>(m_page.get(), "streamIdleTimeoutMs")->value(), 30000);
    QVERIFY(!m_page->hasUnappliedChanges());
    QVERIFY(!child<QPushButton>(m_page.get(), "applySettings")->isEnabled());
}

void TestSettingsPage::generateCopyRevokeKey()
{
    // An unapplied edit in the form stays unapplied while keys change.
    typeInto(child<QSpinBox>(m_page.get(), "cooldownDefaultMs"), QStringLiteral("90000"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "generateKey"), Qt::LeftButton);
    QVERIFY(
        GuiHarness::waitFor([&] { return m_harness->bridge()->fileConfig()->settings.apiKeys.size() == 2; }));
    const QString key = m_harness->bridge()->fileConfig()->settings.apiKeys.at(1);
    auto *shown = child<QLineEdit>(m_page.get(), "newKey");
    QVERIFY(GuiHarness::waitFor([&] { return shown->isVisible(); }));
    QCOMPARE(shown->text(), key);
    QVERIFY(key.startsWith(QLatin1String("sk-429chain-")));
    QCOMPARE(ConfigLoader::loadFile(m_harness->configPath()).config->settings.apiKeys.size(), 2);
    QCOMPARE(m_harness->bridge()->fileConfig()->settings.cooldownDefaultMs, 60000);
    QCOMPARE(child<QSpinBox>(m_page.get(), "cooldownDefaultMs")->value(), 90000);

    auto *list = child<QListWidget>(m_page.get(), "apiKeyList");
    QCOMPARE(list->count(), 2);
    QVERIFY(!list->item(1)->text().contains(key));
    QCOMPARE(list->currentRow(), 1);
    QTest::mouseClick(child<QPushButton>(m_page.get(), "copyNewKey"), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), key);
    list->setCurrentRow(0);
    QTest::mouseClick(child<QPushButton>(m_page.get(), "copyKey"), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), QLatin1String(GuiHarness::kApiKey));

    // Revoke asks first; Cancel keeps the key.
    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Cancel)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "revokeKey"), Qt::LeftButton);
    QCOMPARE(m_harness->bridge()->fileConfig()->settings.apiKeys.size(), 2);
    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Yes)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "revokeKey"), Qt::LeftButton);
    QVERIFY(
        GuiHarness::waitFor([&] { return m_harness->bridge()->fileConfig()->settings.apiKeys.size() == 1; }));
    QCOMPARE(m_harness->bridge()->fileConfig()->settings.apiKeys, QStringList{key});
    QCOMPARE(ConfigLoader::loadFile(m_harness->configPath()).config->settings.apiKeys, QStringList{key});
    QVERIFY(!shown->isVisible()); // shown once
}

void TestSettingsPage::lastKeyCannotBeRevoked()
{
    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Yes)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "revokeKey"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return !m_banner->text().isEmpty(); }));
    QCOMPARE(m_banner->kind(), StatusBanner::Kind::Error);
    QVERIFY2(m_banner->text().contains(QLatin1String("at least one API key")), qPrintable(m_banner->text()));
    QCOMPARE(m_harness->bridge()->fileConfig()->settings.apiKeys,
             QStringList{QLatin1String(GuiHarness::kApiKey)});
}

void TestSettingsPage::adminKeysListedWhenSet()
{
    GuiHarness::Options options;
    options.editConfig = [](Config &config) {
        config.settings.adminKeys = {QStringLiteral("sk-admin-0123456789abcdef")};
    };
    GuiHarness harness(options);
    QVERIFY(harness.start());
    SettingsPage page(harness.bridge());
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(!child<QWidget>(&page, "adminKeysBox")->isHidden());
    auto *list = child<QListWidget>(&page, "adminKeyList");
    QCOMPARE(list->count(), 1);
    QVERIFY(
        list->item(0)->text().endsWith(ApiKeysPanel::maskKey(QStringLiteral("sk-admin-0123456789abcdef"))));
    QVERIFY(!list->item(0)->text().contains(QLatin1String("0123456789")));
    QTest::mouseClick(child<QPushButton>(&page, "copyAdminKey"), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("sk-admin-0123456789abcdef"));
    // Changing other settings keeps the admin keys.
    typeInto(child<QSpinBox>(&page, "requestTimeoutMs"), QStringLiteral("40000"));
    auto *banner = child<StatusBanner>(&page, "settingsBanner");
    banner->clearMessage();
    QTest::mouseClick(child<QPushButton>(&page, "applySettings"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return !banner->text().isEmpty(); }));
    QCOMPARE(banner->kind(), StatusBanner::Kind::Success);
    QCOMPARE(harness.bridge()->fileConfig()->settings.requestTimeoutMs, 40000);
    QCOMPARE(ConfigLoader::loadFile(harness.configPath()).config->settings.adminKeys,
             QStringList{QStringLiteral("sk-admin-0123456789abcdef")});
}

void TestSettingsPage::keyFormat()
{
    const QString a = ClientKey::generate();
    const QString b = ClientKey::generate();
    QVERIFY(a != b);
    QCOMPARE(a.size(), 12 + 32); // "sk-429chain-" + 24 bytes in unpadded base64
    QVERIFY(QRegularExpression(QStringLiteral("^sk-429chain-[A-Za-z0-9_-]{32}$")).match(a).hasMatch());
    QCOMPARE(ApiKeysPanel::maskKey(QStringLiteral("short")), QString(8, QChar(0x2022)));
    const QString masked = ApiKeysPanel::maskKey(a);
    QVERIFY(masked.startsWith(a.left(8)) && masked.endsWith(a.right(4)));
    QVERIFY(!masked.contains(a.mid(8, 20)));
}

QTEST_MAIN(TestSettingsPage)
#include "tst_settingspage.moc"
