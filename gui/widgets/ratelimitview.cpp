#include "ratelimitview.h"
#include "displayformat.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSet>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace {

QString windowText(const RateLimitTracker::WindowStatus &w)
{
    const bool tokens = w.unit == LimitWindow::Unit::Tokens;
    QString name;
    switch (w.span) {
    case LimitWindow::Span::Minute:
        name = tokens ? RateLimitView::tr("tokens per minute") : RateLimitView::tr("requests per minute");
        break;
    case LimitWindow::Span::Hour:
        name = tokens ? RateLimitView::tr("tokens per hour") : RateLimitView::tr("requests per hour");
        break;
    case LimitWindow::Span::Day:
        name = tokens ? RateLimitView::tr("tokens per day") : RateLimitView::tr("requests per day");
        break;
    case LimitWindow::Span::Month:
        name = tokens ? RateLimitView::tr("tokens per month") : RateLimitView::tr("requests per month");
        break;
    case LimitWindow::Span::Unknown:
        name = tokens ? RateLimitView::tr("tokens") : RateLimitView::tr("requests");
        break;
    }
    if (w.providerWide)
        name = RateLimitView::tr("%1 (whole provider)").arg(name);
    if (w.remaining && w.limit)
        return RateLimitView::tr("%1: %2 of %3 left")
            .arg(name, DisplayFormat::integer(*w.remaining), DisplayFormat::integer(*w.limit));
    if (w.remaining)
        return RateLimitView::tr("%1: %2 left").arg(name, DisplayFormat::integer(*w.remaining));
    if (w.limit)
        return RateLimitView::tr("%1: limit %2").arg(name, DisplayFormat::integer(*w.limit));
    return {};
}

QTableWidgetItem *textItem(const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    return item;
}

} // namespace

RateLimitView::RateLimitView(QWidget *parent)
    : QWidget(parent), m_now([] { return QDateTime::currentMSecsSinceEpoch(); })
{
    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("rateLimitTable"));
    m_table->setAccessibleName(tr("Rate-limit status per entry"));
    m_table->setHorizontalHeaderLabels({tr("Entry"), tr("Status"), tr("Resets in"), tr("Quota"), QString()});
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    // Rows tall enough for the Reset button, so cooling and available rows look alike.
    m_table->verticalHeader()->setDefaultSectionSize(std::max(
        m_table->verticalHeader()->defaultSectionSize(), QPushButton(tr("Reset")).sizeHint().height() + 6));
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    QHeaderView *header = m_table->horizontalHeader();
    // Entry and quota share the width; long model names are elided (the tooltip has them whole), so the table
    // never needs a horizontal scroll bar.
    header->setSectionResizeMode(EntryColumn, QHeaderView::Stretch);
    m_table->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    header->setSectionResizeMode(StatusColumn, QHeaderView::ResizeToContents);
    header->setSectionResizeMode(ResetColumn, QHeaderView::ResizeToContents);
    header->setSectionResizeMode(DetailsColumn, QHeaderView::Stretch);
    header->setSectionResizeMode(ActionColumn, QHeaderView::ResizeToContents);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);

    m_empty = new QLabel(
        tr("No chain entries yet. Add a provider and a chain, and their quotas show up here."), this);
    m_empty->setObjectName(QStringLiteral("rateLimitEmpty"));
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setFrameShape(QFrame::StyledPanel);
    m_empty->setMargin(12);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_table);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    m_ticker = new QTimer(this);
    m_ticker->setInterval(1000);
    connect(m_ticker, &QTimer::timeout, this, &RateLimitView::tick);
    m_ticker->start();
}

void RateLimitView::setClock(std::function<qint64()> nowMs)
{
    m_now = std::move(nowMs);
    tick();
}

void RateLimitView::setStatus(const QList<RateLimitTracker::PairStatus> &pairs, const Config *config)
{
    QList<RateLimitTracker::PairStatus> merged = pairs;
    QSet<QString> known;
    for (const auto &pair : pairs)
        known.insert(key(pair.provider, pair.model));
    if (config) {
        for (const ChainConfig &chain : config->chains) {
            for (const ChainEntry &entry : chain.entries) {
                if (known.contains(key(entry.provider, entry.model)))
                    continue;
                known.insert(key(entry.provider, entry.model));
                RateLimitTracker::PairStatus fresh;
                fresh.provider = entry.provider;
                fresh.model = entry.model;
                fresh.state = RateLimitTracker::PairStatus::State::Available;
                merged.append(fresh);
            }
        }
    }
    // Cooling entries first, then by name.
    std::stable_sort(merged.begin(), merged.end(), [](const auto &a, const auto &b) {
        const bool ae = a.exhausted();
        const bool be = b.exhausted();
        if (ae != be)
            return ae;
        return key(a.provider, a.model) < key(b.provider, b.model);
    });
    const bool sameRows =
        merged.size() == m_pairs.size() &&
        std::equal(merged.begin(), merged.end(), m_pairs.begin(), [](const auto &a, const auto &b) {
            return a.provider == b.provider && a.model == b.model && a.state == b.state;
        });
    m_pairs = merged;
    if (sameRows) {
        for (int row = 0; row < m_pairs.size(); ++row) {
            m_table->item(row, DetailsColumn)->setText(details(m_pairs.at(row)));
            m_table->item(row, DetailsColumn)->setToolTip(details(m_pairs.at(row)));
        }
        tick();
        return;
    }
    rebuild();
}

int RateLimitView::rowCount() const
{
    return int(m_pairs.size());
}

QString RateLimitView::statusText(const RateLimitTracker::PairStatus &pair)
{
    if (pair.exhausted())
        return tr("Cooling down");
    if (pair.state == RateLimitTracker::PairStatus::State::Tracking)
        return tr("Quota known");
    return tr("Available");
}

qint64 RateLimitView::nextResetMs(const RateLimitTracker::PairStatus &pair, qint64 nowMs)
{
    if (pair.exhausted())
        return pair.cooldownUntilMs;
    qint64 next = 0;
    for (const auto &w : pair.windows) {
        if (w.resetAtMs > nowMs && (next == 0 || w.resetAtMs < next))
            next = w.resetAtMs;
    }
    return next;
}

QString RateLimitView::details(const RateLimitTracker::PairStatus &pair)
{
    QStringList bits;
    for (const auto &w : pair.windows) {
        const QString text = windowText(w);
        if (!text.isEmpty())
            bits << text;
    }
    if (pair.windows.isEmpty() && pair.quota) {
        if (pair.quota->remainingRequests)
            bits << tr("%1 requests left").arg(DisplayFormat::integer(*pair.quota->remainingRequests));
        if (pair.quota->remainingTokens)
            bits << tr("%1 tokens left").arg(DisplayFormat::integer(*pair.quota->remainingTokens));
    }
    if (pair.concurrencyLimit)
        bits << tr("%1 of %2 in flight").arg(pair.inUse).arg(*pair.concurrencyLimit);
    else if (pair.inUse > 0)
        bits << tr("%1 in flight").arg(pair.inUse);
    if (!pair.reason.isEmpty())
        bits << pair.reason;
    if (bits.isEmpty())
        return pair.state == RateLimitTracker::PairStatus::State::Available ? tr("nothing learned yet")
                                                                            : QString();
    return bits.join(tr(" · "));
}

void RateLimitView::rebuild()
{
    QString selected;
    const int current = m_table->currentRow();
    if (current >= 0 && m_table->item(current, EntryColumn))
        selected = m_table->item(current, EntryColumn)->data(Qt::UserRole).toString();

    m_table->setRowCount(0);
    m_table->setRowCount(int(m_pairs.size()));
    for (int row = 0; row < m_pairs.size(); ++row) {
        const auto &pair = m_pairs.at(row);
        auto *entry = textItem(DisplayFormat::entry(pair.provider, pair.model));
        entry->setData(Qt::UserRole, key(pair.provider, pair.model));
        entry->setToolTip(entry->text());
        m_table->setItem(row, EntryColumn, entry);
        auto *status = textItem(statusText(pair));
        if (pair.exhausted())
            status->setForeground(DisplayFormat::statusColor(429));
        else if (pair.state == RateLimitTracker::PairStatus::State::Available)
            status->setForeground(DisplayFormat::statusColor(200));
        m_table->setItem(row, StatusColumn, status);
        m_table->setItem(row, ResetColumn, textItem(QString()));
        auto *detail = textItem(details(pair));
        detail->setToolTip(detail->text());
        m_table->setItem(row, DetailsColumn, detail);
        m_table->setItem(row, ActionColumn, textItem(QString()));
        if (pair.exhausted()) {
            auto *reset = new QPushButton(tr("Reset"), m_table);
            reset->setObjectName(QStringLiteral("resetLimits"));
            reset->setAccessibleName(tr("Reset the limits of %1").arg(entry->text()));
            reset->setToolTip(tr("Forget what 429chain knows about this entry's limits and try it again"));
            const QString provider = pair.provider;
            const QString model = pair.model;
            connect(reset, &QPushButton::clicked, this,
                    [this, provider, model]() { emit resetRequested(provider, model); });
            m_table->setCellWidget(row, ActionColumn, reset);
        }
        if (entry->data(Qt::UserRole).toString() == selected)
            m_table->setCurrentCell(row, EntryColumn);
    }
    m_stack->setCurrentWidget(m_pairs.isEmpty() ? static_cast<QWidget *>(m_empty) : m_table);
    // As tall as the rows (a Reset button makes a row taller), scrolling beyond eight.
    int height = m_table->horizontalHeader()->sizeHint().height() + 2 * m_table->frameWidth() + 2;
    for (int row = 0; row < std::min<int>(int(m_pairs.size()), 8); ++row)
        height += m_table->rowHeight(row);
    m_table->setFixedHeight(height);
    m_stack->setFixedHeight(m_pairs.isEmpty() ? m_empty->sizeHint().height() : height);
    tick();
}

void RateLimitView::tick()
{
    const qint64 now = m_now();
    for (int row = 0; row < m_pairs.size(); ++row) {
        QTableWidgetItem *item = m_table->item(row, ResetColumn);
        if (!item)
            continue;
        const auto &pair = m_pairs.at(row);
        const qint64 next = nextResetMs(pair, now);
        QString text;
        if (next > now)
            text = DisplayFormat::countdown(next - now);
        else if (pair.exhausted())
            text = next > 0 ? tr("ready") : tr("unknown");
        item->setText(text);
        item->setToolTip(next > 0 ? tr("Until %1").arg(DisplayFormat::dateTime(next)) : QString());
    }
}

QString RateLimitView::key(const QString &provider, const QString &model)
{
    return provider + QLatin1Char('\n') + model;
}
