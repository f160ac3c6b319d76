#include "providerspage.h"

#include "pageparts.h"
#include "providerdialog.h"
#include "providerkind.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace {

enum Column { NameColumn, TypeColumn, UrlColumn, StatusColumn, TodayColumn, ColumnCount };

bool isPool(const QString &model)
{
    return model == RateLimitTracker::allModelsPool() || model == RateLimitTracker::freeModelsPool();
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

ProvidersPage::ProvidersPage(ServiceBridge *bridge, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
    , m_banner(new StatusBanner(this))
    , m_stack(new QStackedWidget(this))
    , m_table(new QTableWidget(0, ColumnCount, this))
{
    setObjectName(QStringLiteral("providersPage"));
    m_banner->setObjectName(QStringLiteral("providersBanner"));

    auto *title = PageParts::title(tr("Providers"), this);
    auto *subtitle =
        new QLabel(tr("The accounts 429chain sends requests to. Chains list which of their models "
                      "to try, in order."),
                   this);
    subtitle->setWordWrap(true);
    subtitle->setForegroundRole(QPalette::PlaceholderText);

    m_add = new QPushButton(tr("&Add provider…"), this);
    m_add->setObjectName(QStringLiteral("addProvider"));
    m_edit = new QPushButton(tr("&Edit…"), this);
    m_edit->setObjectName(QStringLiteral("editProvider"));
    m_edit->setAccessibleName(tr("Edit the selected provider"));
    m_delete = new QPushButton(tr("&Delete"), this);
    m_delete->setObjectName(QStringLiteral("deleteProvider"));
    m_delete->setAccessibleName(tr("Delete the selected provider"));
    connect(m_add, &QPushButton::clicked, this, &ProvidersPage::addProvider);
    connect(m_edit, &QPushButton::clicked, this, &ProvidersPage::editSelected);
    connect(m_delete, &QPushButton::clicked, this, &ProvidersPage::deleteSelected);

    m_table->setObjectName(QStringLiteral("providersTable"));
    m_table->setAccessibleName(tr("Providers"));
    m_table->setHorizontalHeaderLabels(
        {tr("Provider"), tr("Type"), tr("Base URL"), tr("Status"), tr("Requests today")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->verticalHeader()->hide();
    m_table->setShowGrid(false);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(NameColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(TypeColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(UrlColumn, QHeaderView::Stretch);
    header->setSectionResizeMode(StatusColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(TodayColumn, QHeaderView::ResizeToContents);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    header->setMinimumSectionSize(90);
    m_table->setColumnWidth(StatusColumn, 160);
    m_table->horizontalHeaderItem(TodayColumn)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 14);
    m_table->installEventFilter(this);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this] { editSelected(); });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &ProvidersPage::updateButtons);

    // Empty state: what to do, and the button to do it.
    auto *empty = new QWidget(this);
    auto *emptyLayout = new QVBoxLayout(empty);
    auto *emptyText = new QLabel(tr("No providers yet. Add one with its API key to start."), empty);
    emptyText->setObjectName(QStringLiteral("providersEmpty"));
    emptyText->setAlignment(Qt::AlignCenter);
    emptyText->setWordWrap(true);
    auto *emptyAdd = new QPushButton(tr("Add provider…"), empty);
    emptyAdd->setObjectName(QStringLiteral("addProviderEmpty"));
    connect(emptyAdd, &QPushButton::clicked, this, &ProvidersPage::addProvider);
    emptyLayout->addStretch(1);
    emptyLayout->addWidget(emptyText);
    emptyLayout->addWidget(emptyAdd, 0, Qt::AlignHCenter);
    emptyLayout->addStretch(2);

    m_stack->addWidget(m_table);
    m_stack->addWidget(empty);

    auto *buttons = new QHBoxLayout;
    buttons->setSpacing(8);
    buttons->addWidget(m_add);
    buttons->addWidget(m_edit);
    buttons->addWidget(m_delete);
    buttons->addStretch(1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(12);
    layout->addWidget(title);
    layout->addWidget(subtitle);
    layout->addWidget(m_banner);
    layout->addLayout(buttons);
    layout->addWidget(m_stack, 1);

    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &ProvidersPage::refreshStatus);
    m_usageDebounce.setSingleShot(true);
    m_usageDebounce.setInterval(1000);
    connect(&m_usageDebounce, &QTimer::timeout, this, &ProvidersPage::refreshUsage);

    connect(m_bridge, &ServiceBridge::configChanged, this, &ProvidersPage::reload);
    connect(m_bridge, &ServiceBridge::limitsChanged, this, &ProvidersPage::refreshStatus);
    connect(m_bridge, &ServiceBridge::requestFinished, this, [this] { m_usageDebounce.start(); });

    setTabOrder(m_add, m_edit);
    setTabOrder(m_edit, m_delete);
    setTabOrder(m_delete, m_table);
    reload();
    refreshUsage();
}

QString ProvidersPage::countdown(qint64 ms)
{
    const qint64 seconds = qMax<qint64>(0, (ms + 999) / 1000);
    if (seconds >= 86400)
        return tr("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

QString ProvidersPage::statusText(const QString &providerId, const QList<RateLimitTracker::PairStatus> &pairs,
                                  qint64 now, qint64 *nextChangeMs, QString *details)
{
    int models = 0;
    int exhaustedModels = 0;
    bool poolExhausted = false;
    qint64 soonest = 0;
    QStringList lines;
    for (const RateLimitTracker::PairStatus &pair : pairs) {
        if (pair.provider != providerId)
            continue;
        const bool pool = isPool(pair.model);
        if (!pool)
            ++models;
        if (!pair.exhausted())
            continue;
        if (pool && pair.model == RateLimitTracker::allModelsPool())
            poolExhausted = true;
        if (!pool)
            ++exhaustedModels;
        const qint64 left = pair.cooldownUntilMs - now;
        if (pair.cooldownUntilMs > 0 && left > 0 && (soonest == 0 || pair.cooldownUntilMs < soonest))
            soonest = pair.cooldownUntilMs;
        const QString what = pool ? tr("all models") : pair.model;
        QString line = pair.cooldownUntilMs > 0 && left > 0
                           ? tr("%1: cooling down, %2 left").arg(what, countdown(left))
                           : tr("%1: exhausted").arg(what);
        if (!pair.reason.isEmpty())
            line += QStringLiteral(" (") + pair.reason + QLatin1Char(')');
        lines << line;
    }
    if (nextChangeMs)
        *nextChangeMs = soonest;
    if (details)
        *details = lines.join(QLatin1Char('\n'));
    if (lines.isEmpty())
        return tr("Available");
    const bool all = poolExhausted || (models > 0 && exhaustedModels == models) || models == 0;
    if (all)
        return soonest > 0 ? tr("Cooling down %1").arg(countdown(soonest - now)) : tr("Exhausted");
    return soonest > 0 ? tr("Available; %1 of %2 models cooling down (%3)")
                             .arg(exhaustedModels)
                             .arg(models)
                             .arg(countdown(soonest - now))
                       : tr("Available; %1 of %2 models exhausted").arg(exhaustedModels).arg(models);
}

void ProvidersPage::reload()
{
    const QString keep = selectedId();
    const std::shared_ptr<const Config> config = m_bridge->fileConfig();
    m_table->setRowCount(0);
    m_table->setRowCount(int(config->providers.size()));
    for (int row = 0; row < config->providers.size(); ++row) {
        const ProviderConfig &p = config->providers.at(row);
        QString label = p.name.isEmpty() || p.name == p.id ? p.id : tr("%1 · %2").arg(p.name, p.id);
        if (!p.enabled)
            label += tr(" – disabled");
        auto *name = new QTableWidgetItem(label);
        name->setData(Qt::UserRole, p.id);
        name->setData(Qt::UserRole + 1, p.enabled);
        name->setToolTip(label);
        m_table->setItem(row, NameColumn, name);
        auto *type = new QTableWidgetItem(ProviderKind::label(p.type));
        type->setToolTip(p.type);
        m_table->setItem(row, TypeColumn, type);
        const QString url = p.baseUrl.isEmpty() ? ProviderKind::defaultBaseUrl(p.type) : p.baseUrl;
        auto *urlItem = new QTableWidgetItem(url);
        urlItem->setToolTip(p.baseUrl.isEmpty() ? tr("%1 (the type's default)").arg(url) : url);
        m_table->setItem(row, UrlColumn, urlItem);
        m_table->setItem(row, StatusColumn, new QTableWidgetItem);
        auto *today = new QTableWidgetItem;
        today->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_table->setItem(row, TodayColumn, today);
    }
    m_stack->setCurrentIndex(config->providers.isEmpty() ? 1 : 0);
    // Fit the text columns, with room between them.
    for (const int column : {NameColumn, TypeColumn}) {
        m_table->resizeColumnToContents(column);
        m_table->setColumnWidth(column, qMin(m_table->columnWidth(column) + 24, 360));
    }
    refreshStatus();
    refreshUsage();
    if (!keep.isEmpty())
        selectId(keep);
    else if (m_table->rowCount() > 0)
        m_table->selectRow(0);
    updateButtons();
}

void ProvidersPage::refreshStatus()
{
    const QList<RateLimitTracker::PairStatus> pairs = m_bridge->limits();
    const qint64 now = nowMs();
    bool counting = false;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QString id = m_table->item(row, NameColumn)->data(Qt::UserRole).toString();
        qint64 next = 0;
        QString details;
        QTableWidgetItem *item = m_table->item(row, StatusColumn);
        if (!m_table->item(row, NameColumn)->data(Qt::UserRole + 1).toBool()) {
            item->setText(tr("Disabled"));
            item->setToolTip(tr("Chains skip this provider until it is enabled again (Edit…)."));
            continue;
        }
        item->setText(statusText(id, pairs, now, &next, &details));
        item->setToolTip(details.isEmpty() ? item->text() : details);
        counting = counting || next > 0;
    }
    if (counting && !m_tick.isActive())
        m_tick.start();
    else if (!counting)
        m_tick.stop();
}

void ProvidersPage::refreshUsage()
{
    if (!m_bridge->hasStats()) {
        for (int row = 0; row < m_table->rowCount(); ++row) {
            m_table->item(row, TodayColumn)->setText(QStringLiteral("–"));
            m_table->item(row, TodayColumn)->setToolTip(tr("No request log"));
        }
        return;
    }
    const qint64 since = QDateTime::currentDateTimeUtc().date().startOfDay(Qt::UTC).toMSecsSinceEpoch();
    m_bridge->queryStats<QList<TimeseriesPoint>>(
        [since](StatsSource &stats) { return stats.timeseries(false, since); }, this,
        [this, since](const QList<TimeseriesPoint> &points) {
            m_requestsToday.clear();
            for (const TimeseriesPoint &point : points) {
                if (point.bucketStartMs >= since)
                    m_requestsToday[point.provider] += point.requests;
            }
            m_usageKnown = true;
            const QLocale locale;
            for (int row = 0; row < m_table->rowCount(); ++row) {
                const QString id = m_table->item(row, NameColumn)->data(Qt::UserRole).toString();
                QTableWidgetItem *item = m_table->item(row, TodayColumn);
                item->setText(locale.toString(m_requestsToday.value(id)));
                item->setToolTip(tr("Requests %1 answered since 00:00 UTC").arg(id));
            }
        });
}

void ProvidersPage::updateButtons()
{
    const bool selected = !selectedId().isEmpty();
    m_edit->setEnabled(selected);
    m_delete->setEnabled(selected);
}

QString ProvidersPage::selectedId() const
{
    const int row = m_table->currentRow();
    if (row < 0 || !m_table->item(row, NameColumn) || !m_table->selectionModel()->isRowSelected(row))
        return QString();
    return m_table->item(row, NameColumn)->data(Qt::UserRole).toString();
}

void ProvidersPage::selectId(const QString &id)
{
    for (int row = 0; row < m_table->rowCount(); ++row) {
        if (m_table->item(row, NameColumn)->data(Qt::UserRole).toString() == id) {
            m_table->selectRow(row);
            return;
        }
    }
    if (m_table->rowCount() > 0)
        m_table->selectRow(0);
}

void ProvidersPage::addProvider()
{
    ProviderDialog dialog(m_bridge, nullptr, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_banner->showMessage(StatusBanner::Kind::Success, dialog.resultMessage());
    reload();
    selectId(dialog.providerId());
}

void ProvidersPage::editSelected()
{
    const QString id = selectedId();
    const std::shared_ptr<const Config> config = m_bridge->fileConfig();
    const ProviderConfig *provider = config->provider(id);
    if (!provider)
        return;
    ProviderDialog dialog(m_bridge, provider, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_banner->showMessage(StatusBanner::Kind::Success, dialog.resultMessage());
    reload();
    selectId(id);
}

void ProvidersPage::deleteSelected()
{
    const QString id = selectedId();
    if (id.isEmpty())
        return;
    QStringList users;
    for (const ChainConfig &chain : m_bridge->fileConfig()->chains) {
        for (const ChainEntry &entry : chain.entries) {
            if (entry.provider == id) {
                users << chain.name;
                break;
            }
        }
    }
    QMessageBox box(QMessageBox::Question, tr("Delete provider"), tr("Delete the provider \"%1\"?").arg(id),
                    QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("confirmDeleteProvider"));
    box.setInformativeText(
        users.isEmpty() ? tr("The provider and its key are removed from the config.")
                        : tr("It is still used by %1: 429chain refuses to delete it until no chain uses it.")
                              .arg(users.join(QLatin1String(", "))));
    box.button(QMessageBox::Yes)->setText(tr("Delete"));
    box.setDefaultButton(QMessageBox::Cancel);
    if (box.exec() != QMessageBox::Yes)
        return;
    m_delete->setEnabled(false);
    m_bridge->deleteProvider(id, this, [this, id](const AdminResult &result) {
        updateButtons();
        if (!result.ok()) {
            const QString text =
                result.status == 409
                    ? tr("\"%1\" was not deleted: %2. Remove it from those chains first (Chains page).")
                          .arg(id, result.error)
                    : tr("\"%1\" was not deleted: %2").arg(id, result.error);
            m_banner->showMessage(StatusBanner::Kind::Error, text);
            return;
        }
        m_banner->showMessage(StatusBanner::Kind::Success, result.message);
        reload();
    });
}

bool ProvidersPage::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        if (key->modifiers() == Qt::NoModifier || key->modifiers() == Qt::KeypadModifier) {
            switch (key->key()) {
            case Qt::Key_Return:
            case Qt::Key_Enter:
                editSelected();
                return true;
            case Qt::Key_Delete:
                deleteSelected();
                return true;
            case Qt::Key_Insert:
                addProvider();
                return true;
            default:
                break;
            }
        }
    }
    return QWidget::eventFilter(watched, event);
}

void ProvidersPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refreshStatus();
    refreshUsage();
}
