#include "chainspage.h"

#include "chainentriesmodel.h"
#include "entrypicker.h"
#include "newchaindialog.h"
#include "pageparts.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace {

QHash<QString, QString> providerLabels(const Config &config)
{
    QHash<QString, QString> labels;
    for (const ProviderConfig &p : config.providers)
        labels.insert(p.id,
                      p.name.isEmpty() || p.name == p.id ? p.id : p.name + QStringLiteral(" · ") + p.id);
    return labels;
}

} // namespace

ChainsPage::ChainsPage(ServiceBridge *bridge, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
    , m_banner(new StatusBanner(this))
    , m_chains(new QListWidget(this))
    , m_entries(new QTableView(this))
    , m_model(new ChainEntriesModel(this))
{
    setObjectName(QStringLiteral("chainsPage"));
    m_banner->setObjectName(QStringLiteral("chainsBanner"));

    auto *subtitle =
        new QLabel(tr("A chain is the list of provider + model entries 429chain tries in order until "
                      "one answers. Clients choose a chain by sending its name as the model."),
                   this);
    subtitle->setWordWrap(true);
    subtitle->setForegroundRole(QPalette::PlaceholderText);

    // Left: the chains.
    auto *left = new QWidget(this);
    m_chains->setObjectName(QStringLiteral("chainList"));
    m_chains->setAccessibleName(tr("Chains"));
    m_chains->setSelectionMode(QAbstractItemView::SingleSelection);
    m_chains->setSpacing(2);
    m_chains->installEventFilter(this);
    m_new = new QPushButton(tr("&New chain…"), left);
    m_new->setObjectName(QStringLiteral("newChain"));
    m_rename = new QPushButton(tr("R&ename…"), left);
    m_rename->setObjectName(QStringLiteral("renameChain"));
    m_rename->setToolTip(tr("Rename the selected chain (F2)"));
    m_default = new QPushButton(tr("Make de&fault"), left);
    m_default->setObjectName(QStringLiteral("makeDefault"));
    m_default->setToolTip(tr("Use this chain for requests whose model is not a chain name"));
    m_deleteChain = new QPushButton(tr("Delete c&hain"), left);
    m_deleteChain->setObjectName(QStringLiteral("deleteChain"));
    m_deleteChain->setToolTip(tr("Delete the selected chain (Delete)"));
    connect(m_new, &QPushButton::clicked, this, &ChainsPage::newChain);
    connect(m_rename, &QPushButton::clicked, this, &ChainsPage::renameSelected);
    connect(m_default, &QPushButton::clicked, this, &ChainsPage::makeSelectedDefault);
    connect(m_deleteChain, &QPushButton::clicked, this, &ChainsPage::deleteSelected);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 8, 0);
    leftLayout->setSpacing(8);
    leftLayout->addWidget(PageParts::title(tr("Chains"), left, 1.1));
    leftLayout->addWidget(m_chains, 1);
    auto *chainButtons = new QGridLayout;
    chainButtons->setSpacing(6);
    chainButtons->addWidget(m_new, 0, 0);
    chainButtons->addWidget(m_rename, 0, 1);
    chainButtons->addWidget(m_default, 1, 0);
    chainButtons->addWidget(m_deleteChain, 1, 1);
    leftLayout->addLayout(chainButtons);

    // Right: the entries of the selected chain.
    auto *right = new QWidget(this);
    m_chainTitle = PageParts::title(QString(), right, 1.1);
    m_chainTitle->setObjectName(QStringLiteral("chainTitle"));
    m_chainNote = new QLabel(right);
    m_chainNote->setObjectName(QStringLiteral("chainNote"));
    m_chainNote->setWordWrap(true);
    m_chainNote->setForegroundRole(QPalette::PlaceholderText);

    m_entries->setObjectName(QStringLiteral("entriesTable"));
    m_entries->setAccessibleName(tr("Entries of the chain, in the order they are tried"));
    m_entries->setModel(m_model);
    m_entries->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_entries->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    m_entries->setSelectionMode(QAbstractItemView::SingleSelection);
    m_entries->setDragEnabled(true);
    m_entries->setAcceptDrops(true);
    m_entries->setDropIndicatorShown(true);
    m_entries->setDragDropMode(QAbstractItemView::InternalMove);
    m_entries->setDefaultDropAction(Qt::MoveAction);
    m_entries->setDragDropOverwriteMode(false);
    m_entries->setAlternatingRowColors(true);
    m_entries->setShowGrid(false);
    m_entries->setWordWrap(false);
    m_entries->setTextElideMode(Qt::ElideMiddle);
    m_entries->verticalHeader()->hide();
    m_entries->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_entries->horizontalHeader()->setSectionResizeMode(ChainEntriesModel::PositionColumn,
                                                        QHeaderView::ResizeToContents);
    m_entries->horizontalHeader()->setSectionResizeMode(ChainEntriesModel::ProviderColumn,
                                                        QHeaderView::Interactive);
    m_entries->horizontalHeader()->setSectionResizeMode(ChainEntriesModel::ModelColumn, QHeaderView::Stretch);
    m_entries->horizontalHeader()->setMinimumSectionSize(40);
    m_entries->installEventFilter(this);
    connect(m_model, &ChainEntriesModel::reordered, this, [this](int from, int to) {
        if (m_reloading)
            return;
        const ChainEntry &moved = m_model->entries().at(to);
        Q_UNUSED(from);
        saveEntries(m_model->entries(),
                    tr("Moved %1 / %2 to position %3 of %4.")
                        .arg(moved.provider, moved.model)
                        .arg(to + 1)
                        .arg(m_shownChain),
                    to);
    });

    m_up = new QPushButton(tr("Move &up"), right);
    m_up->setObjectName(QStringLiteral("moveUp"));
    m_up->setToolTip(tr("Try the selected entry earlier (Ctrl+Up)"));
    m_down = new QPushButton(tr("Move do&wn"), right);
    m_down->setObjectName(QStringLiteral("moveDown"));
    m_down->setToolTip(tr("Try the selected entry later (Ctrl+Down)"));
    m_remove = new QPushButton(tr("&Remove entry"), right);
    m_remove->setObjectName(QStringLiteral("removeEntry"));
    m_remove->setToolTip(tr("Remove the selected entry from the chain (Delete)"));
    connect(m_up, &QPushButton::clicked, this, &ChainsPage::moveUp);
    connect(m_down, &QPushButton::clicked, this, &ChainsPage::moveDown);
    connect(m_remove, &QPushButton::clicked, this, &ChainsPage::removeEntry);
    auto *entryButtons = new QHBoxLayout;
    entryButtons->setSpacing(6);
    entryButtons->addWidget(m_up);
    entryButtons->addWidget(m_down);
    entryButtons->addStretch(1);
    entryButtons->addWidget(m_remove);

    auto *addBox = new QGroupBox(tr("Add an entry"), right);
    m_picker = new EntryPicker(m_bridge, addBox);
    m_add = new QPushButton(tr("&Add entry"), addBox);
    m_add->setObjectName(QStringLiteral("addEntry"));
    m_add->setAccessibleName(tr("Add the entry at the end of the chain"));
    connect(m_add, &QPushButton::clicked, this, &ChainsPage::addEntry);
    connect(m_picker->modelCombo()->lineEdit(), &QLineEdit::returnPressed, this, &ChainsPage::addEntry);
    auto *addLayout = new QVBoxLayout(addBox);
    addLayout->setSpacing(8);
    addLayout->addWidget(m_picker);
    addLayout->addWidget(m_add, 0, Qt::AlignRight);

    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(8, 0, 0, 0);
    rightLayout->setSpacing(8);
    rightLayout->addWidget(m_chainTitle);
    rightLayout->addWidget(m_chainNote);
    rightLayout->addWidget(m_entries, 1);
    rightLayout->addLayout(entryButtons);
    rightLayout->addWidget(addBox);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({260, 640});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(12);
    layout->addWidget(PageParts::title(tr("Chains"), this));
    layout->addWidget(subtitle);
    layout->addWidget(m_banner);
    layout->addWidget(splitter, 1);

    connect(m_chains, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (!m_reloading && item)
            showChain(item->data(Qt::UserRole).toString());
    });
    connect(m_entries->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ChainsPage::updateButtons);
    connect(m_bridge, &ServiceBridge::configChanged, this, &ChainsPage::reload);

    setTabOrder(m_chains, m_new);
    setTabOrder(m_new, m_rename);
    setTabOrder(m_rename, m_default);
    setTabOrder(m_default, m_deleteChain);
    setTabOrder(m_deleteChain, m_entries);
    setTabOrder(m_entries, m_up);
    setTabOrder(m_up, m_down);
    setTabOrder(m_down, m_remove);
    setTabOrder(m_remove, m_picker->providerCombo());
    reload();
}

void ChainsPage::reload()
{
    const std::shared_ptr<const Config> config = m_bridge->fileConfig();
    QString keep = m_shownChain;
    if (!config->chain(keep))
        keep = config->settings.defaultChain;
    if (!config->chain(keep) && !config->chains.isEmpty())
        keep = config->chains.first().name;
    m_reloading = true;
    m_chains->clear();
    for (const ChainConfig &chain : config->chains) {
        const bool isDefault = chain.name == config->settings.defaultChain;
        auto *item =
            new QListWidgetItem(isDefault ? tr("%1 — default").arg(chain.name) : chain.name, m_chains);
        item->setData(Qt::UserRole, chain.name);
        item->setToolTip(isDefault ? tr("Entries: %1; the default chain").arg(chain.entries.size())
                                   : tr("Entries: %1").arg(chain.entries.size()));
        if (isDefault) {
            QFont font = item->font();
            font.setBold(true);
            item->setFont(font);
        }
        if (chain.name == keep)
            m_chains->setCurrentItem(item);
    }
    m_reloading = false;
    m_picker->setProviders(config->providers);
    m_model->setProviderLabels(providerLabels(*config));
    showChain(keep);
}

void ChainsPage::showChain(const QString &name)
{
    const std::shared_ptr<const Config> config = m_bridge->fileConfig();
    const ChainConfig *chain = config->chain(name);
    const int keepRow = name == m_shownChain ? selectedRow() : 0;
    m_shownChain = chain ? name : QString();
    m_reloading = true;
    m_model->setEntries(chain ? chain->entries : QList<ChainEntry>());
    m_reloading = false;
    if (!chain) {
        m_chainTitle->setText(tr("No chain selected"));
        m_chainNote->setText(config->chains.isEmpty() ? tr("No chains yet. Create one with New chain…")
                                                      : tr("Select a chain to see its entries."));
    } else {
        const bool isDefault = name == config->settings.defaultChain;
        m_chainTitle->setText(isDefault ? tr("%1 (default chain)").arg(name) : name);
        m_chainNote->setText(
            isDefault
                ? tr("Entries are tried from the top. Requests for \"%1\" and for any model that is not a "
                     "chain name use this chain. Drag rows or use Ctrl+Up / Ctrl+Down to reorder.")
                      .arg(name)
                : tr("Entries are tried from the top. Requests for the model \"%1\" use this chain. Drag "
                     "rows or use Ctrl+Up / Ctrl+Down to reorder.")
                      .arg(name));
        selectRow(qBound(0, keepRow, int(chain->entries.size()) - 1));
        m_entries->resizeColumnToContents(ChainEntriesModel::ProviderColumn);
        m_entries->setColumnWidth(ChainEntriesModel::ProviderColumn,
                                  qMin(m_entries->columnWidth(ChainEntriesModel::ProviderColumn) + 24, 320));
    }
    updateButtons();
}

void ChainsPage::updateButtons()
{
    const bool chain = !m_shownChain.isEmpty();
    const int row = selectedRow();
    m_rename->setEnabled(chain);
    m_default->setEnabled(chain && m_bridge->fileConfig()->settings.defaultChain != m_shownChain);
    m_deleteChain->setEnabled(chain);
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row >= 0 && row < m_model->rowCount() - 1);
    m_remove->setEnabled(row >= 0);
    m_add->setEnabled(chain);
}

QString ChainsPage::selectedChain() const
{
    return m_shownChain;
}

int ChainsPage::selectedRow() const
{
    const QModelIndexList rows = m_entries->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
}

void ChainsPage::selectRow(int row)
{
    if (row < 0 || row >= m_model->rowCount())
        return;
    m_entries->selectionModel()->setCurrentIndex(m_model->index(row, ChainEntriesModel::ProviderColumn),
                                                 QItemSelectionModel::ClearAndSelect |
                                                     QItemSelectionModel::Rows);
}

void ChainsPage::moveBy(int delta)
{
    const int row = selectedRow();
    const int to = row + delta;
    if (row < 0 || to < 0 || to >= m_model->rowCount())
        return;
    // moveRows counts the destination before the move: one further when moving down.
    m_model->moveRows(QModelIndex(), row, 1, QModelIndex(), delta > 0 ? to + 1 : to);
}

void ChainsPage::moveUp()
{
    moveBy(-1);
}

void ChainsPage::moveDown()
{
    moveBy(1);
}

void ChainsPage::saveEntries(const QList<ChainEntry> &entries, const QString &what, int rowAfter)
{
    const ChainConfig *current = m_bridge->fileConfig()->chain(m_shownChain);
    if (!current) {
        reload();
        return;
    }
    ChainConfig chain = *current;
    chain.entries = entries;
    const QString name = chain.name;
    m_bridge->upsertChain(chain, this, [this, name, what, rowAfter](const AdminResult &result) {
        onResult(name, rowAfter, result.ok(),
                 result.ok() ? what : tr("%1 not saved: %2").arg(name, result.error));
    });
}

void ChainsPage::onResult(const QString &chainToShow, int rowAfter, bool ok, const QString &text)
{
    m_banner->showMessage(ok ? StatusBanner::Kind::Success : StatusBanner::Kind::Error, text);
    // What the config says now, success or not (a refused change goes back to it).
    if (!chainToShow.isEmpty())
        m_shownChain = chainToShow;
    reload();
    if (rowAfter >= 0)
        selectRow(qMin(rowAfter, m_model->rowCount() - 1));
    updateButtons();
}

void ChainsPage::removeEntry()
{
    const int row = selectedRow();
    if (row < 0)
        return;
    QList<ChainEntry> entries = m_model->entries();
    const ChainEntry removed = entries.takeAt(row);
    saveEntries(entries, tr("Removed %1 / %2 from %3.").arg(removed.provider, removed.model, m_shownChain),
                qMax(0, row - 1));
}

void ChainsPage::addEntry()
{
    if (m_shownChain.isEmpty())
        return;
    ChainEntry entry;
    entry.provider = m_picker->provider();
    entry.model = m_picker->model();
    if (entry.model.isEmpty()) {
        m_banner->showMessage(StatusBanner::Kind::Error, tr("Type or pick a model for the new entry."));
        m_picker->modelCombo()->setFocus();
        return;
    }
    QList<ChainEntry> entries = m_model->entries();
    for (const ChainEntry &e : entries) {
        if (e.provider == entry.provider && e.model == entry.model) {
            m_banner->showMessage(
                StatusBanner::Kind::Info,
                tr("%1 / %2 is in %3 already.").arg(entry.provider, entry.model, m_shownChain));
            return;
        }
    }
    entries.append(entry);
    m_picker->clearModel();
    saveEntries(entries, tr("Added %1 / %2 to %3.").arg(entry.provider, entry.model, m_shownChain),
                int(entries.size()) - 1);
}

void ChainsPage::newChain()
{
    NewChainDialog dialog(m_bridge, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_banner->showMessage(StatusBanner::Kind::Success, dialog.resultMessage());
    m_shownChain = dialog.chainName();
    reload();
}

void ChainsPage::renameSelected()
{
    const QString from = selectedChain();
    if (from.isEmpty())
        return;
    bool ok = false;
    const QString to =
        QInputDialog::getText(this, tr("Rename chain"),
                              tr("New name for %1 (clients that send the old name as the model "
                                 "get the default chain instead):")
                                  .arg(from),
                              QLineEdit::Normal, from, &ok)
            .trimmed();
    if (!ok || to == from)
        return;
    m_bridge->renameChain(from, to, this, [this, from, to](const AdminResult &result) {
        onResult(result.ok() ? to : from, -1, result.ok(),
                 result.ok() ? result.message : tr("%1 not renamed: %2").arg(from, result.error));
    });
}

void ChainsPage::makeSelectedDefault()
{
    const QString name = selectedChain();
    if (name.isEmpty())
        return;
    Settings settings = m_bridge->fileConfig()->settings;
    settings.defaultChain = name;
    m_bridge->updateSettings(settings, this, [this, name](const AdminResult &result) {
        onResult(name, -1, result.ok(),
                 result.ok() ? tr("%1 is now the default chain.").arg(name) : result.error);
    });
}

void ChainsPage::deleteSelected()
{
    const QString name = selectedChain();
    if (name.isEmpty())
        return;
    // The default chain cannot go (the core says why); asking first would only delay that answer.
    if (name != m_bridge->fileConfig()->settings.defaultChain) {
        QMessageBox box(QMessageBox::Question, tr("Delete chain"), tr("Delete the chain \"%1\"?").arg(name),
                        QMessageBox::Yes | QMessageBox::Cancel, this);
        box.setObjectName(QStringLiteral("confirmDeleteChain"));
        box.setInformativeText(
            tr("Clients that send \"%1\" as the model get the default chain instead.").arg(name));
        box.button(QMessageBox::Yes)->setText(tr("Delete"));
        box.setDefaultButton(QMessageBox::Cancel);
        if (box.exec() != QMessageBox::Yes)
            return;
    }
    m_bridge->deleteChain(name, this, [this, name](const AdminResult &result) {
        onResult(QString(), -1, result.ok(),
                 result.ok() ? result.message : tr("%1 not deleted: %2").arg(name, result.error));
    });
}

bool ChainsPage::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() != QEvent::KeyPress)
        return QWidget::eventFilter(watched, event);
    const auto *key = static_cast<QKeyEvent *>(event);
    const Qt::KeyboardModifiers mods = key->modifiers() & ~Qt::KeypadModifier;
    if (watched == m_entries) {
        if (mods == Qt::ControlModifier && key->key() == Qt::Key_Up) {
            moveUp();
            return true;
        }
        if (mods == Qt::ControlModifier && key->key() == Qt::Key_Down) {
            moveDown();
            return true;
        }
        if (mods == Qt::NoModifier && key->key() == Qt::Key_Delete) {
            removeEntry();
            return true;
        }
    } else if (watched == m_chains && mods == Qt::NoModifier) {
        if (key->key() == Qt::Key_Delete) {
            deleteSelected();
            return true;
        }
        if (key->key() == Qt::Key_F2) {
            renameSelected();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}
