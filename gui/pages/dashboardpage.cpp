#include "dashboardpage.h"
#include "displayformat.h"
#include "pageparts.h"
#include "ratelimitview.h"
#include "servicebridge.h"
#include "statcard.h"
#include "tokenchart.h"

#include <QComboBox>
#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

using PageParts::cell;

namespace {

constexpr qint64 kHourMs = 3600 * 1000;
constexpr qint64 kDayMs = 24 * kHourMs;
constexpr int kEmptyHeight = 72; // an empty-state box: room for two lines of text

QString utcDay(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).date().toString(Qt::ISODate);
}

QLabel *emptyLabel(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setAlignment(Qt::AlignCenter);
    label->setForegroundRole(QPalette::PlaceholderText);
    label->setFrameShape(QFrame::StyledPanel);
    label->setMargin(12);
    return label;
}

// A table as tall as its rows (at least `minRows`, at most `maxRows`, then it scrolls), so short lists leave
// no empty box behind.
void fitHeight(QTableWidget *table, int minRows, int maxRows)
{
    const int rows = std::clamp(table->rowCount(), minRows, maxRows);
    const int header = table->horizontalHeader()->sizeHint().height();
    table->setFixedHeight(header + rows * table->verticalHeader()->defaultSectionSize() +
                          2 * table->frameWidth() + 2);
}

} // namespace

DashboardPage::DashboardPage(ServiceBridge *bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    m_clock.start();
    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(18, 18, 18, 18);
    layout->setSpacing(16);

    auto *title = PageParts::title(tr("Dashboard"), content);
    layout->addWidget(title);

    m_notice = new QLabel(content);
    m_notice->setObjectName(QStringLiteral("dashboardNotice"));
    m_notice->setWordWrap(true);
    m_notice->hide();
    layout->addWidget(m_notice);

    // Cards.
    auto *cards = new QHBoxLayout;
    cards->setSpacing(12);
    m_requestsCard = new StatCard(tr("Requests today"), content);
    m_requestsCard->setObjectName(QStringLiteral("requestsCard"));
    m_waterfallCard = new StatCard(tr("Waterfall rate"), content);
    m_waterfallCard->setObjectName(QStringLiteral("waterfallCard"));
    m_tokensCard = new StatCard(tr("Tokens today"), content);
    m_tokensCard->setObjectName(QStringLiteral("tokensCard"));
    m_latencyCard = new StatCard(tr("Average latency"), content);
    m_latencyCard->setObjectName(QStringLiteral("latencyCard"));
    for (StatCard *card : {m_requestsCard, m_waterfallCard, m_tokensCard, m_latencyCard})
        cards->addWidget(card);
    layout->addLayout(cards);

    // Rate limits and the chart side by side.
    m_limits = new RateLimitView(content);
    m_limits->setObjectName(QStringLiteral("rateLimits"));
    connect(
        m_limits, &RateLimitView::resetRequested, this,
        [this](const QString &provider, const QString &model) { m_bridge->resetLimits(provider, model); });

    m_chart = new TokenChart(content);
    m_chart->setObjectName(QStringLiteral("tokenChart"));
    m_period = new QComboBox(content);
    m_period->setObjectName(QStringLiteral("chartPeriod"));
    m_period->setAccessibleName(tr("Chart period"));
    m_period->addItem(tr("Last 24 hours"));
    m_period->addItem(tr("Last 30 days"));
    connect(m_period, &QComboBox::currentIndexChanged, this, [this]() { reload(); });

    // The live limiter status gets the whole width: entries have long model names.
    layout->addWidget(buildSection(tr("Rate limits"), m_limits));

    // Usage.
    m_providerTable =
        buildTable(QStringLiteral("providerUsage"),
                   {tr("Provider"), tr("Requests"), tr("Tokens"), tr("Failed"), tr("Last used")}, 0);
    m_providerTable->setAccessibleName(tr("Usage by provider"));
    m_providerStack = new QStackedWidget(content);
    m_providerStack->addWidget(emptyLabel(tr("No provider has served a request yet."), content));
    m_providerStack->addWidget(m_providerTable);
    m_chainTable = buildTable(QStringLiteral("chainUsage"),
                              {tr("Chain"), tr("Requests"), tr("Tokens"), tr("Failed"), tr("Last used")}, 0);
    m_chainTable->setAccessibleName(tr("Usage by chain"));
    m_chainStack = new QStackedWidget(content);
    m_chainStack->addWidget(emptyLabel(tr("No chain has been used yet."), content));
    m_chainStack->addWidget(m_chainTable);
    // The chart beside the two usage tables, which share its height.
    auto *usage = new QVBoxLayout;
    usage->setSpacing(12);
    usage->addWidget(buildSection(tr("Usage by provider"), m_providerStack));
    usage->addWidget(buildSection(tr("Usage by chain"), m_chainStack));
    auto *middle = new QGridLayout;
    middle->setHorizontalSpacing(16);
    middle->addWidget(buildSection(tr("Tokens over time"), m_chart, m_period), 0, 0);
    middle->addLayout(usage, 0, 1);
    middle->setColumnStretch(0, 1);
    middle->setColumnStretch(1, 1);
    layout->addLayout(middle);

    // Recent requests.
    m_recentTable = buildTable(
        QStringLiteral("recentRequests"),
        {tr("Time"), tr("Chain"), tr("Served by"), tr("Status"), tr("Attempts"), tr("Tokens"), tr("Latency")},
        2);
    m_recentTable->setAccessibleName(tr("Recent requests"));
    m_recentStack = new QStackedWidget(content);
    m_recentStack->addWidget(
        emptyLabel(tr("No requests yet. Send one from the Test prompt page or point any OpenAI client at %1.")
                       .arg(m_bridge->baseUrl()),
                   content));
    m_recentStack->addWidget(m_recentTable);
    layout->addWidget(buildSection(tr("Recent requests"), m_recentStack));
    layout->addStretch(1);

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    m_refreshTimer = new QTimer(this);
    m_refreshTimer->setSingleShot(true);
    m_refreshTimer->setInterval(kRefreshMs);
    connect(m_refreshTimer, &QTimer::timeout, this, &DashboardPage::reload);

    connect(m_bridge, &ServiceBridge::requestFinished, this, &DashboardPage::onRequestFinished);
    connect(m_bridge, &ServiceBridge::limitsChanged, this, &DashboardPage::updateLimits);
    connect(m_bridge, &ServiceBridge::configChanged, this, &DashboardPage::updateLimits);

    if (!m_bridge->hasStats()) {
        m_notice->setText(
            tr("The request log is off, so these numbers count only the requests since 429chain "
               "started. Set a database path in Settings to keep a history."));
        m_notice->show();
    }
    showCards();
    showUsage(m_providerTable, m_providerStack, m_providers);
    showUsage(m_chainTable, m_chainStack, m_chains);
    showRecent();
    m_chart->setSeries({}, TokenChart::Bucket::Hour, QDateTime::currentMSecsSinceEpoch() - kDayMs + kHourMs,
                       QDateTime::currentMSecsSinceEpoch());
    updateLimits();
    reload();
}

DashboardPage::~DashboardPage() = default;

QWidget *DashboardPage::buildSection(const QString &title, QWidget *content, QWidget *headerExtra)
{
    auto *section = new QWidget(content->parentWidget());
    auto *layout = new QVBoxLayout(section);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    auto *head = new QHBoxLayout;
    auto *label = new QLabel(title, section);
    QFont bold = label->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.1);
    label->setFont(bold);
    // Every heading as tall as one with a combo box beside it, so headings side by side line up.
    label->setMinimumHeight(QComboBox().sizeHint().height());
    head->addWidget(label);
    head->addStretch(1);
    if (headerExtra)
        head->addWidget(headerExtra);
    layout->addLayout(head);
    // Tables are as tall as their rows: they sit at the top. The chart takes the height there is.
    const bool fills = qobject_cast<TokenChart *>(content) != nullptr;
    layout->addWidget(content, fills ? 1 : 0);
    if (!fills)
        layout->addStretch(1);
    return section;
}

QTableWidget *DashboardPage::buildTable(const QString &name, const QStringList &headers, int stretchColumn)
{
    auto *table = new QTableWidget(0, int(headers.size()), this);
    table->setObjectName(name);
    table->setHorizontalHeaderLabels(headers);
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setShowGrid(false);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->setTextElideMode(Qt::ElideMiddle);
    QHeaderView *header = table->horizontalHeader();
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    for (int column = 0; column < headers.size(); ++column) {
        header->setSectionResizeMode(column, column == stretchColumn ? QHeaderView::Stretch
                                                                     : QHeaderView::ResizeToContents);
    }
    return table;
}

void DashboardPage::reload()
{
    if (!m_bridge->hasStats())
        return;
    if (m_loading) {
        m_reloadAgain = true; // e.g. the period changed while a load ran: its answer is for the old one
        return;
    }
    m_loading = true;
    m_queryIssuedAt = m_clock.elapsed();
    const bool hourly = m_period->currentIndex() == 0;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 since = hourly ? now - kDayMs + kHourMs : now - 29 * kDayMs;
    m_bridge->queryStats<Snapshot>(
        [hourly, since, now](StatsSource &stats) {
            Snapshot s;
            s.summary = stats.summary();
            s.providers = stats.providerUsage();
            s.chains = stats.chainUsage();
            RequestQuery recent;
            recent.limit = kRecentRows;
            s.recent = stats.requests(recent);
            s.series = stats.timeseries(hourly, since);
            s.sinceMs = since;
            s.nowMs = now;
            s.hourly = hourly;
            return s;
        },
        this, [this](Snapshot snapshot) { apply(snapshot); });
}

void DashboardPage::apply(const Snapshot &snapshot)
{
    m_loading = false;
    if (m_reloadAgain) {
        m_reloadAgain = false;
        reload();
        return;
    }
    m_summary = snapshot.summary;
    m_latencySumMs = m_summary.avgLatencyMs ? *m_summary.avgLatencyMs * m_summary.totalRequests : 0;
    m_providers = snapshot.providers;
    m_chains = snapshot.chains;
    m_recent = snapshot.recent;
    m_chart->setSeries(snapshot.series, snapshot.hourly ? TokenChart::Bucket::Hour : TokenChart::Bucket::Day,
                       snapshot.sinceMs, snapshot.nowMs);
    showCards();
    showUsage(m_providerTable, m_providerStack, m_providers);
    showUsage(m_chainTable, m_chainStack, m_chains);
    showRecent();
    // Requests that finished shortly before or while this ran may not have been written yet: look again.
    if (m_lastRecordAt >= 0 && m_lastRecordAt > m_queryIssuedAt - 1000)
        scheduleRefresh();
    emit statsLoaded();
}

void DashboardPage::onRequestFinished(const RequestRecord &record)
{
    m_lastRecordAt = m_clock.elapsed();
    const QString day = utcDay(record.startedAtMs);
    if (!m_liveDay.isEmpty() && day != m_liveDay) {
        m_summary.requestsToday = 0; // midnight UTC passed
        m_summary.tokensToday = 0;
    }
    m_liveDay = day;

    ++m_summary.totalRequests;
    ++m_summary.requestsToday;
    if (record.attempts.size() > 1)
        ++m_summary.waterfallRequests;
    if (record.status < 400)
        ++m_summary.successfulRequests;
    m_summary.totalTokens += record.totalTokens;
    m_summary.tokensToday += record.totalTokens;
    m_latencySumMs += record.latencyMs;
    m_summary.avgLatencyMs = m_latencySumMs / m_summary.totalRequests;

    count(m_providers, record.provider, record);
    count(m_chains, record.chain, record);
    StoredRequest live;
    live.record = record;
    live.attemptCount = int(record.attempts.size());
    m_recent.prepend(live);
    while (m_recent.size() > kRecentRows)
        m_recent.removeLast();
    m_chart->addTokens(record.startedAtMs, record.provider, record.totalTokens);

    showCards();
    showUsage(m_providerTable, m_providerStack, m_providers);
    showUsage(m_chainTable, m_chainStack, m_chains);
    showRecent();
    scheduleRefresh();
}

void DashboardPage::scheduleRefresh()
{
    if (m_bridge->hasStats() && !m_refreshTimer->isActive())
        m_refreshTimer->start();
}

void DashboardPage::count(QList<UsageTotals> &rows, const QString &key, const RequestRecord &record)
{
    auto it = std::find_if(rows.begin(), rows.end(), [&](const UsageTotals &u) { return u.key == key; });
    UsageTotals usage;
    if (it != rows.end()) {
        usage = *it;
        rows.erase(it);
    }
    usage.key = key;
    ++usage.requests;
    usage.promptTokens += record.promptTokens;
    usage.completionTokens += record.completionTokens;
    usage.totalTokens += record.totalTokens;
    usage.lastRequestMs = std::max(usage.lastRequestMs, record.startedAtMs);
    if (record.status >= 400)
        ++usage.failures;
    rows.prepend(usage); // newest last request first, as the store orders them
}

void DashboardPage::updateLimits()
{
    const auto config = m_bridge->config();
    m_limits->setStatus(m_bridge->limits(), config.get());
}

void DashboardPage::showCards()
{
    const StatsSummary &s = m_summary;
    const bool none = s.totalRequests == 0;
    m_requestsCard->setValue(DisplayFormat::integer(s.requestsToday),
                             none ? tr("none recorded yet")
                                  : tr("%1 in total · %2 served")
                                        .arg(DisplayFormat::integer(s.totalRequests),
                                             DisplayFormat::percent(s.successfulRequests, s.totalRequests)));
    m_waterfallCard->setValue(
        DisplayFormat::percent(s.waterfallRequests, s.totalRequests),
        none ? tr("requests that needed a second entry")
             : tr("%1 used a later entry").arg(DisplayFormat::integer(s.waterfallRequests)));
    m_tokensCard->setValue(DisplayFormat::integer(s.tokensToday),
                           tr("%1 in total").arg(DisplayFormat::integer(s.totalTokens)));
    m_latencyCard->setValue(s.avgLatencyMs ? DisplayFormat::duration(*s.avgLatencyMs)
                                           : DisplayFormat::placeholder(),
                            none ? tr("no requests yet") : tr("per request, all time"));
}

void DashboardPage::showUsage(QTableWidget *table, QStackedWidget *stack, const QList<UsageTotals> &rows)
{
    QList<UsageTotals> sorted = rows;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const UsageTotals &a, const UsageTotals &b) { return a.requests > b.requests; });
    table->setRowCount(int(sorted.size()));
    for (int row = 0; row < sorted.size(); ++row) {
        const UsageTotals &u = sorted.at(row);
        table->setItem(row, 0, cell(u.key.isEmpty() ? tr("(none)") : u.key));
        table->setItem(row, 1, cell(DisplayFormat::integer(u.requests), true));
        table->setItem(row, 2, cell(DisplayFormat::integer(u.totalTokens), true));
        auto *failed = cell(u.failures ? DisplayFormat::integer(u.failures) : tr("none"), true);
        if (u.failures)
            failed->setForeground(DisplayFormat::statusColor(500));
        table->setItem(row, 3, failed);
        table->setItem(row, 4, cell(DisplayFormat::time(u.lastRequestMs)));
    }
    fitHeight(table, 1, 8);
    stack->setCurrentIndex(sorted.isEmpty() ? 0 : 1);
    stack->setFixedHeight(sorted.isEmpty() ? kEmptyHeight : table->height());
}

void DashboardPage::showRecent()
{
    m_recentTable->setRowCount(int(m_recent.size()));
    for (int row = 0; row < m_recent.size(); ++row) {
        const RequestRecord &r = m_recent.at(row).record;
        m_recentTable->setItem(row, 0, cell(DisplayFormat::time(r.startedAtMs)));
        m_recentTable->setItem(row, 1, cell(r.chain));
        m_recentTable->setItem(row, 2, cell(DisplayFormat::entry(r.provider, r.model)));
        auto *status = cell(DisplayFormat::status(r.status));
        status->setForeground(DisplayFormat::statusColor(r.status));
        if (!r.error.isEmpty())
            status->setToolTip(r.error);
        m_recentTable->setItem(row, 3, status);
        m_recentTable->setItem(row, 4, cell(DisplayFormat::integer(m_recent.at(row).attemptCount), true));
        m_recentTable->setItem(row, 5, cell(DisplayFormat::tokens(r), true));
        m_recentTable->setItem(row, 6, cell(DisplayFormat::duration(r.latencyMs), true));
    }
    fitHeight(m_recentTable, 1, kRecentRows);
    m_recentStack->setCurrentIndex(m_recent.isEmpty() ? 0 : 1);
    m_recentStack->setFixedHeight(m_recent.isEmpty() ? kEmptyHeight : m_recentTable->height());
}
