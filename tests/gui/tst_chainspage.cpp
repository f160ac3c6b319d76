// The Chains page driven like a user would (offscreen): reorder entries through the model (moveRows and the
// drag-and-drop MIME data) and by keyboard (Ctrl+Up / Ctrl+Down and the buttons), add and remove entries, a
// refused change that goes back to the config, new chain, rename, set default, delete, and the default
// chain's refusal shown as the core says it. Every result is checked in the running config and in the file on
// disk.

#include "chainentriesmodel.h"
#include "chainspage.h"
#include "configloader.h"
#include "guiharness.h"
#include "simulatedprovider.h"
#include "statusbanner.h"

#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QTableView>
#include <QTest>

using GuiTest::child;
using GuiTest::whenModal;

namespace {

QStringList order(const ChainConfig *chain)
{
    QStringList out;
    if (chain) {
        for (const ChainEntry &e : chain->entries)
            out << e.provider + QLatin1Char('/') + e.model;
    }
    return out;
}

} // namespace

class TestChainsPage : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void showsChainsAndDefault();
    void reorderThroughModel();
    void reorderByDragAndDrop();
    void reorderByKeyboard();
    void addAndRemoveEntry();
    void addEntryFromFetchedModels();
    void refusedChangeReloads();
    void setDefault();
    void deleteDefaultRefused();
    void newRenameDelete();

private:
    QStringList fileOrder(const QString &chain) const;
    QStringList liveOrder(const QString &chain) const;
    void selectChain(const QString &name);

    std::unique_ptr<GuiHarness> m_harness;
    std::unique_ptr<ChainsPage> m_page;
    QListWidget *m_list = nullptr;
    QTableView *m_table = nullptr;
    StatusBanner *m_banner = nullptr;
};

void TestChainsPage::init()
{
    GuiHarness::Options options;
    options.editConfig = [](Config &config) {
        // A third entry so that moves have room.
        config.chains[0].entries.append(
            {QStringLiteral("beta"), QStringLiteral("beta-two"), 0, std::nullopt});
    };
    m_harness = std::make_unique<GuiHarness>(options);
    QVERIFY(m_harness->start());
    m_page = std::make_unique<ChainsPage>(m_harness->bridge());
    m_page->resize(1000, 700);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
    m_list = child<QListWidget>(m_page.get(), "chainList");
    m_table = child<QTableView>(m_page.get(), "entriesTable");
    m_banner = child<StatusBanner>(m_page.get(), "chainsBanner");
    QVERIFY(m_list && m_table && m_banner);
}

void TestChainsPage::cleanup()
{
    GuiTest::nextGeneration();
    m_page.reset();
    m_harness.reset();
}

QStringList TestChainsPage::fileOrder(const QString &chain) const
{
    const ConfigLoadResult loaded = ConfigLoader::loadFile(m_harness->configPath());
    return loaded.ok() ? order(loaded.config->chain(chain)) : QStringList();
}

QStringList TestChainsPage::liveOrder(const QString &chain) const
{
    return order(m_harness->bridge()->fileConfig()->chain(chain));
}

void TestChainsPage::selectChain(const QString &name)
{
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->data(Qt::UserRole).toString() == name) {
            m_list->setCurrentRow(i);
            return;
        }
    }
    QFAIL("no such chain in the list");
}

void TestChainsPage::showsChainsAndDefault()
{
    QCOMPARE(m_list->count(), 2);
    QCOMPARE(m_list->item(0)->text(), QStringLiteral("default — default"));
    QCOMPARE(m_list->item(1)->text(), QStringLiteral("backup"));
    QCOMPARE(m_table->model()->rowCount(), 3);
    QCOMPARE(m_table->model()->index(0, ChainEntriesModel::ModelColumn).data().toString(),
             QStringLiteral("alpha-model"));
    QVERIFY(child<QLabel>(m_page.get(), "chainTitle")->text().contains(QLatin1String("default chain")));
    QVERIFY(!child<QPushButton>(m_page.get(), "makeDefault")->isEnabled());
    selectChain(QStringLiteral("backup"));
    QCOMPARE(m_table->model()->rowCount(), 1);
    QVERIFY(child<QPushButton>(m_page.get(), "makeDefault")->isEnabled());
}

void TestChainsPage::reorderThroughModel()
{
    const QStringList expected = {QStringLiteral("beta/beta-model"), QStringLiteral("alpha/alpha-model"),
                                  QStringLiteral("beta/beta-two")};
    QVERIFY(m_table->model()->moveRows(QModelIndex(), 0, 1, QModelIndex(), 2));
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == expected; }));
    QCOMPARE(fileOrder(QStringLiteral("default")), expected);
    QVERIFY(m_banner->text().contains(QLatin1String("position 2")));
    QCOMPARE(m_table->model()->index(1, ChainEntriesModel::ModelColumn).data().toString(),
             QStringLiteral("alpha-model"));
}

void TestChainsPage::reorderByDragAndDrop()
{
    QAbstractItemModel *model = m_table->model();
    // Drag the last entry and drop it before the first.
    std::unique_ptr<QMimeData> data(model->mimeData({model->index(2, 0)}));
    QVERIFY(data);
    QVERIFY(model->canDropMimeData(data.get(), Qt::MoveAction, 0, 0, QModelIndex()));
    QVERIFY(model->dropMimeData(data.get(), Qt::MoveAction, 0, 0, QModelIndex()));
    const QStringList expected = {QStringLiteral("beta/beta-two"), QStringLiteral("alpha/alpha-model"),
                                  QStringLiteral("beta/beta-model")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == expected; }));
    QCOMPARE(fileOrder(QStringLiteral("default")), expected);

    // Dropped on a row: it goes before that row. Below all rows: last.
    data.reset(model->mimeData({model->index(0, 0)}));
    QVERIFY(model->dropMimeData(data.get(), Qt::MoveAction, -1, -1, QModelIndex()));
    const QStringList last = {QStringLiteral("alpha/alpha-model"), QStringLiteral("beta/beta-model"),
                              QStringLiteral("beta/beta-two")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == last; }));
    QCOMPARE(fileOrder(QStringLiteral("default")), last);

    // Data of another kind is not taken.
    QMimeData text;
    text.setText(QStringLiteral("alpha/alpha-model"));
    QVERIFY(!model->canDropMimeData(&text, Qt::MoveAction, 0, 0, QModelIndex()));
}

void TestChainsPage::reorderByKeyboard()
{
    m_table->setFocus();
    m_table->selectRow(0);
    QTest::keyClick(m_table, Qt::Key_Down, Qt::ControlModifier);
    const QStringList once = {QStringLiteral("beta/beta-model"), QStringLiteral("alpha/alpha-model"),
                              QStringLiteral("beta/beta-two")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == once; }));
    // The moved entry stays selected: a second Ctrl+Down moves it on.
    QVERIFY(GuiHarness::waitFor([&] { return m_table->selectionModel()->isRowSelected(1, QModelIndex()); }));
    QTest::keyClick(m_table, Qt::Key_Down, Qt::ControlModifier);
    const QStringList twice = {QStringLiteral("beta/beta-model"), QStringLiteral("beta/beta-two"),
                               QStringLiteral("alpha/alpha-model")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == twice; }));
    QCOMPARE(fileOrder(QStringLiteral("default")), twice);
    // At the bottom, Move down is off; Ctrl+Up and the Move up button go back.
    QVERIFY(GuiHarness::waitFor([&] { return m_table->selectionModel()->isRowSelected(2, QModelIndex()); }));
    QVERIFY(!child<QPushButton>(m_page.get(), "moveDown")->isEnabled());
    QTest::keyClick(m_table, Qt::Key_Up, Qt::ControlModifier);
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == once; }));
    QVERIFY(GuiHarness::waitFor([&] { return m_table->selectionModel()->isRowSelected(1, QModelIndex()); }));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "moveUp"), Qt::LeftButton);
    const QStringList back = {QStringLiteral("alpha/alpha-model"), QStringLiteral("beta/beta-model"),
                              QStringLiteral("beta/beta-two")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("default")) == back; }));
    QCOMPARE(fileOrder(QStringLiteral("default")), back);
}

void TestChainsPage::addAndRemoveEntry()
{
    selectChain(QStringLiteral("backup"));
    auto *provider = child<QComboBox>(m_page.get(), "entryProvider");
    auto *model = child<QComboBox>(m_page.get(), "entryModel");
    provider->setCurrentIndex(provider->findData(QStringLiteral("alpha")));
    QTest::keyClicks(model->lineEdit(), QStringLiteral("llama-typed"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "addEntry"), Qt::LeftButton);
    const QStringList added = {QStringLiteral("beta/beta-model"), QStringLiteral("alpha/llama-typed")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("backup")) == added; }));
    QCOMPARE(fileOrder(QStringLiteral("backup")), added);
    QVERIFY(GuiHarness::waitFor([&] { return m_table->selectionModel()->isRowSelected(1, QModelIndex()); }));

    // The same entry twice is not added.
    QTest::keyClicks(model->lineEdit(), QStringLiteral("llama-typed"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "addEntry"), Qt::LeftButton);
    QVERIFY(m_banner->text().contains(QLatin1String("already")));
    QCOMPARE(liveOrder(QStringLiteral("backup")), added);

    // The Delete key removes the selected entry.
    m_table->setFocus();
    m_table->selectRow(1);
    QTest::keyClick(m_table, Qt::Key_Delete);
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("backup")).size() == 1; }));
    QCOMPARE(fileOrder(QStringLiteral("backup")), QStringList{QStringLiteral("beta/beta-model")});
}

void TestChainsPage::addEntryFromFetchedModels()
{
    m_harness->runOnEngine([this] {
        m_harness->provider(QStringLiteral("beta"))
            ->setModels({QStringLiteral("beta-model"), QStringLiteral("beta-free:free")});
    });
    selectChain(QStringLiteral("backup"));
    auto *provider = child<QComboBox>(m_page.get(), "entryProvider");
    auto *model = child<QComboBox>(m_page.get(), "entryModel");
    provider->setCurrentIndex(provider->findData(QStringLiteral("beta")));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "entryFetchModels"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return model->count() == 2; }));
    model->hidePopup();
    // Listed by id, with the price and the context length beside it.
    const QAbstractItemModel *list = model->model();
    QCOMPARE(list->index(1, 0).data().toString(), QStringLiteral("beta-model"));
    QCOMPARE(list->index(0, 0).data().toString(), QStringLiteral("beta-free:free"));
    QCOMPARE(list->index(0, 1).data().toString(), QStringLiteral("free"));
    QVERIFY(list->index(0, 2).data().toString().endsWith(QLatin1String(" tokens")));
    QVERIFY(child<QLabel>(m_page.get(), "entryModelsNote")->text().contains(QLatin1String("free: 2")));
    model->setCurrentIndex(0);
    QCOMPARE(model->currentText(), QStringLiteral("beta-free:free"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "addEntry"), Qt::LeftButton);
    const QStringList added = {QStringLiteral("beta/beta-model"), QStringLiteral("beta/beta-free:free")};
    QVERIFY(GuiHarness::waitFor([&] { return liveOrder(QStringLiteral("backup")) == added; }));
    QCOMPARE(fileOrder(QStringLiteral("backup")), added);
}

void TestChainsPage::refusedChangeReloads()
{
    // The core refuses a chain without entries: the page says why and shows the config's entries again.
    selectChain(QStringLiteral("backup"));
    m_table->selectRow(0);
    QTest::mouseClick(child<QPushButton>(m_page.get(), "removeEntry"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor(
        [&] { return m_banner->kind() == StatusBanner::Kind::Error && !m_banner->text().isEmpty(); }));
    QVERIFY2(m_banner->text().contains(QLatin1String("at least one entry")), qPrintable(m_banner->text()));
    QCOMPARE(m_table->model()->rowCount(), 1);
    QCOMPARE(liveOrder(QStringLiteral("backup")), QStringList{QStringLiteral("beta/beta-model")});
    QCOMPARE(fileOrder(QStringLiteral("backup")), QStringList{QStringLiteral("beta/beta-model")});
}

void TestChainsPage::setDefault()
{
    selectChain(QStringLiteral("backup"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "makeDefault"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor(
        [&] { return m_harness->bridge()->fileConfig()->settings.defaultChain == QLatin1String("backup"); }));
    const ConfigLoadResult loaded = ConfigLoader::loadFile(m_harness->configPath());
    QVERIFY(loaded.ok());
    QCOMPARE(loaded.config->settings.defaultChain, QStringLiteral("backup"));
    QVERIFY(
        GuiHarness::waitFor([&] { return m_list->item(1)->text() == QStringLiteral("backup — default"); }));
    QCOMPARE(m_list->item(0)->text(), QStringLiteral("default"));
    QCOMPARE(m_list->currentItem()->data(Qt::UserRole).toString(), QStringLiteral("backup"));
}

void TestChainsPage::deleteDefaultRefused()
{
    selectChain(QStringLiteral("default"));
    QTest::mouseClick(child<QPushButton>(m_page.get(), "deleteChain"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return !m_banner->text().isEmpty(); }));
    QCOMPARE(m_banner->kind(), StatusBanner::Kind::Error);
    QVERIFY2(m_banner->text().contains(QLatin1String("Cannot delete default chain")),
             qPrintable(m_banner->text()));
    QVERIFY(m_harness->bridge()->fileConfig()->chain(QStringLiteral("default")));
    QCOMPARE(m_list->count(), 2);
}

void TestChainsPage::newRenameDelete()
{
    whenModal<QDialog>([](QDialog *dialog) {
        QTest::keyClicks(child<QLineEdit>(dialog, "newChainName"), QStringLiteral("fast"));
        auto *provider = child<QComboBox>(dialog, "entryProvider");
        provider->setCurrentIndex(provider->findData(QStringLiteral("beta")));
        QTest::keyClicks(child<QComboBox>(dialog, "entryModel")->lineEdit(), QStringLiteral("beta-model"));
        QTest::mouseClick(child<QPushButton>(dialog, "createChain"), Qt::LeftButton);
    });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "newChain"), Qt::LeftButton);
    QCOMPARE(liveOrder(QStringLiteral("fast")), QStringList{QStringLiteral("beta/beta-model")});
    QCOMPARE(fileOrder(QStringLiteral("fast")), QStringList{QStringLiteral("beta/beta-model")});
    QCOMPARE(m_list->currentItem()->data(Qt::UserRole).toString(), QStringLiteral("fast"));

    // Rename (F2 on the list).
    whenModal<QInputDialog>([](QInputDialog *dialog) {
        dialog->setTextValue(QStringLiteral("quick"));
        dialog->accept();
    });
    m_list->setFocus();
    QTest::keyClick(m_list, Qt::Key_F2);
    QVERIFY(GuiHarness::waitFor(
        [&] { return m_harness->bridge()->fileConfig()->chain(QStringLiteral("quick")); }));
    QVERIFY(!m_harness->bridge()->fileConfig()->chain(QStringLiteral("fast")));
    QCOMPARE(fileOrder(QStringLiteral("quick")), QStringList{QStringLiteral("beta/beta-model")});
    QVERIFY(GuiHarness::waitFor(
        [&] { return m_list->currentItem()->data(Qt::UserRole).toString() == QLatin1String("quick"); }));

    // Delete, after confirming.
    whenModal<QMessageBox>([](QMessageBox *box) { box->button(QMessageBox::Yes)->click(); });
    QTest::mouseClick(child<QPushButton>(m_page.get(), "deleteChain"), Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor(
        [&] { return !m_harness->bridge()->fileConfig()->chain(QStringLiteral("quick")); }));
    QVERIFY(fileOrder(QStringLiteral("quick")).isEmpty());
    QVERIFY(GuiHarness::waitFor([&] { return m_list->count() == 2; }));
}

QTEST_MAIN(TestChainsPage)
#include "tst_chainspage.moc"
