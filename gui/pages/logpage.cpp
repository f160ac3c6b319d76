#include "logpage.h"
#include "displayformat.h"
#include "pageparts.h"
#include "requestdetailview.h"
#include "requestlogmodel.h"
#include "servicebridge.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace {

constexpr qint64 kHourMs = 3600 * 1000;

// Status filter entries: (status class, exact status).
struct StatusChoice
{
    int statusClass;
    int status;
};
const StatusChoice kStatusChoices[] = {{0, 0}, {2, 0}, {4, 0}, {0, 429}, {5, 0}};
const qint64 kPeriods[] = {0, kHourMs, 24 * kHourMs, 7 * 24 * kHourMs};

QLabel *filterLabel(const QString &text, QWidget *buddy, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setBuddy(buddy);
    return label;
}

} // namespace

LogPage::LogPage(ServiceBridge *bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 18, 18, 18);
    layout->setSpacing(12);

    auto *head = new QHBoxLayout;
    auto *title = PageParts::title(tr("Request log"), this);
    head->addWidget(title);
    head->addStretch(1);
    m_refresh = new QPushButton(tr("&Refresh"), this);
    m_refresh->setObjectName(QStringLiteral("refreshLog"));
    m_refresh->setToolTip(tr("Read the newest requests again (F5)"));
    m_refresh->setShortcut(QKeySequence::Refresh);
    m_export = new QPushButton(tr("&Export CSV…"), this);
    m_export->setObjectName(QStringLiteral("exportCsv"));
    m_export->setToolTip(tr("Save every request the filters match as a CSV file"));
    head->addWidget(m_refresh);
    head->addWidget(m_export);
    layout->addLayout(head);

    auto *bar = new QWidget(this);
    buildFilters(bar);
    layout->addWidget(bar);

    m_model = new RequestLogModel(this);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("logTable"));
    m_table->setAccessibleName(tr("Requests"));
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 10);
    QHeaderView *header = m_table->horizontalHeader();
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(RequestLogModel::ServedByColumn, QHeaderView::Stretch);
    // Wide enough for the header and a typical value; the provider / model column takes the rest.
    const QFontMetrics fm = m_table->fontMetrics();
    const struct
    {
        int column;
        QString sample;
    } widths[] = {
        {RequestLogModel::TimeColumn,
         DisplayFormat::time(QDateTime(QDate(2026, 12, 28), QTime(23, 59, 59)).toMSecsSinceEpoch())},
        {RequestLogModel::ChainColumn, QStringLiteral("my-long-chain")},
        {RequestLogModel::StatusColumn, DisplayFormat::status(499)},
        {RequestLogModel::LatencyColumn, DisplayFormat::duration(88888)},
        {RequestLogModel::TokensColumn, DisplayFormat::integer(888888)},
        {RequestLogModel::AttemptsColumn, QString()},
    };
    for (const auto &w : widths) {
        const QString title = m_model->headerData(w.column, Qt::Horizontal, Qt::DisplayRole).toString();
        m_table->setColumnWidth(w.column,
                                std::max(fm.horizontalAdvance(title), fm.horizontalAdvance(w.sample)) + 28);
    }
    header->setStretchLastSection(false);

    m_empty = new QLabel(this);
    m_empty->setObjectName(QStringLiteral("logEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_table);

    auto *listPane = new QWidget(this);
    auto *listLayout = new QVBoxLayout(listPane);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addWidget(m_stack, 1);
    auto *pager = new QHBoxLayout;
    m_status = new QLabel(listPane);
    m_status->setObjectName(QStringLiteral("logStatus"));
    m_status->setForegroundRole(QPalette::PlaceholderText);
    pager->addWidget(m_status, 1);
    m_loadMore = new QPushButton(tr("Load &more"), listPane);
    m_loadMore->setObjectName(QStringLiteral("loadMore"));
    m_loadMore->setToolTip(tr("Show the next %1 older requests").arg(kPageSize));
    pager->addWidget(m_loadMore);
    listLayout->addLayout(pager);

    m_detail = new RequestDetailView(this);
    m_detail->setObjectName(QStringLiteral("requestDetail"));
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(listPane);
    splitter->addWidget(m_detail);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    layout->addWidget(splitter, 1);

    m_syncTimer = new QTimer(this);
    m_syncTimer->setSingleShot(true);
    m_syncTimer->setInterval(800);
    connect(m_syncTimer, &QTimer::timeout, this, &LogPage::syncNewest);

    connect(m_refresh, &QPushButton::clicked, this, &LogPage::reload);
    connect(m_export, &QPushButton::clicked, this, &LogPage::chooseExportFile);
    connect(m_loadMore, &QPushButton::clicked, this, &LogPage::loadMore);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &LogPage::showSelected);
    connect(m_model, &QAbstractItemModel::modelReset, this, &LogPage::showSelected);
    connect(m_bridge, &ServiceBridge::requestFinished, this, &LogPage::onRequestFinished);
    connect(m_bridge, &ServiceBridge::configChanged, this, &LogPage::fillNameFilters);

    setTabOrder(m_chain, m_provider);
    setTabOrder(m_provider, m_statusFilter);
    setTabOrder(m_statusFilter, m_period);
    setTabOrder(m_period, m_table);
    setTabOrder(m_table, m_loadMore);

    fillNameFilters();
    reload();
}

LogPage::~LogPage() = default;

void LogPage::buildFilters(QWidget *bar)
{
    auto *row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(8);
    m_chain = new QComboBox(bar);
    m_chain->setObjectName(QStringLiteral("chainFilter"));
    m_chain->setAccessibleName(tr("Chain filter"));
    m_provider = new QComboBox(bar);
    m_provider->setObjectName(QStringLiteral("providerFilter"));
    m_provider->setAccessibleName(tr("Provider filter"));
    m_statusFilter = new QComboBox(bar);
    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    m_statusFilter->setAccessibleName(tr("Status filter"));
    m_statusFilter->addItems({tr("Any status"), tr("Served (2xx)"), tr("Refused (4xx)"),
                              tr("Exhausted (429)"), tr("Failed (5xx)")});
    m_period = new QComboBox(bar);
    m_period->setObjectName(QStringLiteral("periodFilter"));
    m_period->setAccessibleName(tr("Period filter"));
    m_period->addItems({tr("Any time"), tr("Last hour"), tr("Last 24 hours"), tr("Last 7 days")});
    for (QComboBox *combo : {m_chain, m_provider})
        combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    row->addWidget(filterLabel(tr("&Chain:"), m_chain, bar));
    row->addWidget(m_chain);
    row->addSpacing(8);
    row->addWidget(filterLabel(tr("&Provider:"), m_provider, bar));
    row->addWidget(m_provider);
    row->addSpacing(8);
    row->addWidget(filterLabel(tr("&Status:"), m_statusFilter, bar));
    row->addWidget(m_statusFilter);
    row->addSpacing(8);
    row->addWidget(filterLabel(tr("P&eriod:"), m_period, bar));
    row->addWidget(m_period);
    row->addStretch(1);
    for (QComboBox *combo : {m_chain, m_provider, m_statusFilter, m_period})
        connect(combo, &QComboBox::activated, this, &LogPage::reload);
}

void LogPage::fillNameFilters()
{
    const auto config = m_bridge->config();
    auto refill = [](QComboBox *combo, const QString &anyText, const QStringList &names) {
        const QString current = combo->currentData().toString();
        QStringList all = names;
        if (!current.isEmpty() && !all.contains(current))
            all.append(current); // a filter on a name that left the config still works
        combo->clear();
        combo->addItem(anyText, QString());
        for (const QString &name : std::as_const(all))
            combo->addItem(name, name);
        combo->setCurrentIndex(std::max(0, combo->findData(current)));
    };
    QStringList chains;
    QStringList providers;
    if (config) {
        for (const ChainConfig &chain : config->chains)
            chains << chain.name;
        for (const ProviderConfig &provider : config->providers)
            providers << provider.id;
    }
    refill(m_chain, tr("Any chain"), chains);
    refill(m_provider, tr("Any provider"), providers);
}

RequestQuery LogPage::currentQuery() const
{
    RequestQuery q;
    q.chain = m_chain->currentData().toString();
    q.provider = m_provider->currentData().toString();
    const StatusChoice choice = kStatusChoices[std::max(0, m_statusFilter->currentIndex())];
    q.statusClass = choice.statusClass;
    q.status = choice.status;
    const qint64 period = kPeriods[std::max(0, m_period->currentIndex())];
    if (period > 0)
        q.sinceMs = QDateTime::currentMSecsSinceEpoch() - period;
    return q;
}

bool LogPage::matchesFilters(const RequestRecord &record) const
{
    const RequestQuery q = currentQuery();
    if (!q.chain.isEmpty() && record.chain != q.chain)
        return false;
    if (!q.provider.isEmpty() && record.provider != q.provider)
        return false;
    if (q.status > 0 && record.status != q.status)
        return false;
    if (q.statusClass > 0 && record.status / 100 != q.statusClass)
        return false;
    return q.sinceMs <= 0 || record.startedAtMs >= q.sinceMs;
}

void LogPage::reload()
{
    ++m_generation;
    m_syncTries = 0;
    if (!m_bridge->hasStats()) {
        updateState();
        return;
    }
    fetchPage(0);
}

void LogPage::loadMore()
{
    const qint64 before = m_model->oldestStoredId();
    if (!m_bridge->hasStats() || m_loading || before <= 0)
        return;
    fetchPage(before);
}

void LogPage::fetchPage(qint64 beforeId)
{
    m_loading = true;
    updateState();
    RequestQuery q = currentQuery();
    q.limit = kPageSize;
    q.beforeId = beforeId;
    const int generation = m_generation;
    m_bridge->queryStats<QList<StoredRequest>>([q](StatsSource &stats) { return stats.requests(q); }, this,
                                               [this, generation, beforeId](QList<StoredRequest> rows) {
                                                   if (generation != m_generation)
                                                       return;
                                                   m_loading = false;
                                                   m_morePossible = rows.size() >= kPageSize;
                                                   if (beforeId > 0)
                                                       m_model->appendStored(rows);
                                                   else
                                                       m_model->setStored(rows);
                                                   updateState();
                                                   emit pageLoaded();
                                               });
}

void LogPage::onRequestFinished(const RequestRecord &record)
{
    if (!matchesFilters(record))
        return;
    m_model->addLive(record);
    updateState();
    // The writer commits within a fraction of a second: then the row gets its id (and its place for paging).
    m_syncTries = 0;
    if (m_bridge->hasStats() && !m_syncTimer->isActive())
        m_syncTimer->start();
}

void LogPage::syncNewest()
{
    if (!m_bridge->hasStats())
        return;
    RequestQuery q = currentQuery();
    q.limit = 200;
    const qint64 newest = m_model->newestStoredId();
    const int generation = m_generation;
    m_bridge->queryStats<QList<StoredRequest>>([q](StatsSource &stats) { return stats.requests(q); }, this,
                                               [this, generation, newest](QList<StoredRequest> rows) {
                                                   if (generation != m_generation)
                                                       return;
                                                   QList<StoredRequest> fresh;
                                                   for (const StoredRequest &row : std::as_const(rows)) {
                                                       if (row.id > newest &&
                                                           row.id > m_model->newestStoredId())
                                                           fresh.append(row);
                                                   }
                                                   m_model->mergeNewest(fresh);
                                                   updateState();
                                                   // Still unwritten rows: look again a few times, then leave
                                                   // them as they are.
                                                   if (m_model->liveCount() > 0 && ++m_syncTries < 6)
                                                       m_syncTimer->start();
                                               });
}

void LogPage::showSelected()
{
    const QModelIndex current = m_table->currentIndex();
    ++m_detailGeneration;
    if (!current.isValid() || current.row() >= m_model->rowCount()) {
        m_detail->showMessage(tr("Select a request to see its attempts."));
        return;
    }
    const StoredRequest &row = m_model->at(current.row());
    if (row.id <= 0) {
        m_detail->showRequest(0, row.record); // a live record carries its attempts already
        emit detailLoaded();
        return;
    }
    m_detail->showMessage(tr("Loading request #%1…").arg(row.id));
    const qint64 id = row.id;
    const int generation = m_detailGeneration;
    m_bridge->queryStats<std::optional<StoredRequest>>(
        [id](StatsSource &stats) { return stats.request(id); }, this,
        [this, id, generation](std::optional<StoredRequest> found) {
            if (generation != m_detailGeneration)
                return;
            if (!found)
                m_detail->showMessage(
                    tr("Request #%1 is no longer in the log (retention removed it).").arg(id));
            else
                m_detail->showRequest(found->id, found->record);
            emit detailLoaded();
        });
}

void LogPage::chooseExportFile()
{
    const QString suggested =
        QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
            .filePath(QStringLiteral("429chain-requests-%1.csv")
                          .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd-HHmmss"))));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the request log"), suggested,
                                                      tr("CSV files (*.csv);;All files (*)"));
    if (!path.isEmpty())
        exportCsv(path);
}

void LogPage::exportCsv(const QString &path)
{
    if (!m_bridge->hasStats()) {
        emit csvExported(false, 0, tr("The request log is off: there is nothing to export."));
        return;
    }
    if (m_exporting)
        return;
    m_exporting = true;
    updateState();
    m_status->setText(tr("Exporting…"));
    const RequestQuery q = currentQuery();
    m_bridge->queryStats<RequestCsv::Result>(
        [q, path](StatsSource &stats) { return RequestCsv::write(stats, q, path); }, this,
        [this, path](RequestCsv::Result result) {
            m_exporting = false;
            updateState();
            if (result.ok) {
                m_status->setText(
                    tr("Saved %1 rows to %2")
                        .arg(DisplayFormat::integer(result.rows), QDir::toNativeSeparators(path)));
            } else {
                // Also in the page: an export that fails while another page is shown is not lost.
                m_status->setText(tr("Export failed: %1").arg(result.error));
                if (isVisible())
                    QMessageBox::warning(this, tr("Export failed"), result.error);
            }
            emit csvExported(result.ok, result.rows, result.error);
        });
}

void LogPage::updateState()
{
    const bool stats = m_bridge->hasStats();
    const bool filtered = m_chain->currentIndex() > 0 || m_provider->currentIndex() > 0 ||
                          m_statusFilter->currentIndex() > 0 || m_period->currentIndex() > 0;
    if (!stats) {
        m_empty->setText(tr("The request log is off, so there is no history to show. Set a database path in "
                            "Settings and restart 429chain to keep one."));
    } else if (m_loading && m_model->rowCount() == 0) {
        m_empty->setText(tr("Loading…"));
    } else if (filtered) {
        m_empty->setText(tr("No request matches these filters."));
    } else {
        m_empty->setText(
            tr("No requests recorded yet. Send one from the Test prompt page or point any OpenAI "
               "client at %1.")
                .arg(m_bridge->baseUrl()));
    }
    m_stack->setCurrentIndex(m_model->rowCount() > 0 ? 1 : 0);
    m_loadMore->setEnabled(stats && !m_loading && m_morePossible);
    m_loadMore->setVisible(m_model->rowCount() > 0);
    m_export->setEnabled(stats && !m_exporting);
    m_refresh->setEnabled(stats);
    m_detail->setVisible(m_model->rowCount() > 0);
    if (!m_exporting) {
        const int rows = m_model->rowCount();
        m_status->setText(
            rows == 0 ? QString()
            : m_morePossible
                ? tr("Newest %1 shown; older ones with Load more").arg(DisplayFormat::integer(rows))
                : tr("All %1 shown").arg(DisplayFormat::integer(rows)));
    }
}
