#include "tokenchart.h"
#include "displayformat.h"

#include <QDateTime>
#include <QHelpEvent>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace {

constexpr qint64 kHourMs = 3600 * 1000;
constexpr qint64 kDayMs = 24 * kHourMs;
constexpr int kPad = 8;
constexpr int kSwatch = 10;
constexpr int kMaxBuckets = 24 * 62; // two months of hours: far more than any period the dashboard offers

// Okabe-Ito: told apart by most colour-blind readers too.
const QColor kSeries[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00), QColor(0x00, 0x9e, 0x73),
                          QColor(0xcc, 0x79, 0xa7), QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00)};

qint64 niceMax(qint64 value)
{
    if (value <= 0)
        return 10;
    const double magnitude = std::pow(10.0, std::floor(std::log10(double(value))));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (m * magnitude >= double(value))
            return qint64(std::ceil(m * magnitude));
    }
    return qint64(10 * magnitude);
}

QString compact(qint64 n)
{
    const QLocale locale;
    if (n >= 1000000)
        return locale.toString(n / 1e6, 'g', 3) + QLatin1Char('M');
    if (n >= 1000)
        return locale.toString(n / 1e3, 'g', 3) + QLatin1Char('k');
    return locale.toString(n);
}

} // namespace

TokenChart::TokenChart(QWidget *parent) : QWidget(parent)
{
    setAccessibleName(tr("Tokens over time"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setFocusPolicy(Qt::NoFocus);
    updateDescription();
}

void TokenChart::setSeries(const QList<TimeseriesPoint> &points, Bucket bucket, qint64 sinceMs, qint64 nowMs)
{
    m_bucket = bucket;
    m_buckets.clear();
    m_providers.clear();
    const qint64 step = stepMs();
    const qint64 first = floorToStep(sinceMs);
    const qint64 last = floorToStep(std::max(nowMs, sinceMs));
    for (qint64 t = first; t <= last && m_buckets.size() < kMaxBuckets; t += step) {
        Slot slot;
        slot.startMs = t;
        m_buckets.append(slot);
    }
    for (const TimeseriesPoint &p : points) {
        const qint64 index = (floorToStep(p.bucketStartMs) - first) / step;
        if (index < 0 || index >= m_buckets.size())
            continue;
        addToSlot(m_buckets[int(index)], p.provider, p.totalTokens);
    }
    updateDescription();
    update();
}

void TokenChart::addTokens(qint64 atMs, const QString &provider, qint64 tokens)
{
    if (m_buckets.isEmpty() || tokens <= 0)
        return;
    const qint64 step = stepMs();
    const qint64 start = floorToStep(atMs);
    if (start < m_buckets.first().startMs)
        return;
    // A new hour (or day) scrolls the window: the oldest buckets leave on the left.
    while (start > m_buckets.last().startMs) {
        Slot slot;
        slot.startMs = m_buckets.last().startMs + step;
        m_buckets.append(slot);
        m_buckets.removeFirst();
    }
    addToSlot(m_buckets[int((start - m_buckets.first().startMs) / step)], provider, tokens);
    updateDescription();
    update();
}

qint64 TokenChart::totalTokens() const
{
    qint64 total = 0;
    for (const Slot &slot : m_buckets)
        total += slot.total;
    return total;
}

QString TokenChart::summary() const
{
    const qint64 total = totalTokens();
    if (total == 0)
        return emptyText();
    QStringList parts;
    for (const QString &provider : m_providers) {
        qint64 sum = 0;
        for (const Slot &slot : m_buckets)
            sum += slot.tokens.value(provider);
        parts << tr("%1: %2").arg(provider, DisplayFormat::integer(sum));
    }
    const QString period =
        m_bucket == Bucket::Hour ? tr("%1 hours").arg(m_buckets.size()) : tr("%1 days").arg(m_buckets.size());
    return tr("%1 tokens over %2 (%3)").arg(DisplayFormat::integer(total), period, parts.join(tr(", ")));
}

QSize TokenChart::sizeHint() const
{
    return {520, 240};
}

QSize TokenChart::minimumSizeHint() const
{
    return {240, 160};
}

qint64 TokenChart::stepMs() const
{
    return m_bucket == Bucket::Hour ? kHourMs : kDayMs;
}

qint64 TokenChart::floorToStep(qint64 ms) const
{
    const qint64 step = stepMs();
    return ms >= 0 ? (ms / step) * step : ((ms - step + 1) / step) * step;
}

void TokenChart::addToSlot(Slot &slot, const QString &provider, qint64 tokens)
{
    if (tokens <= 0)
        return;
    const QString name = provider.isEmpty() ? tr("(none)") : provider;
    slot.tokens[name] += tokens;
    slot.total += tokens;
    if (!m_providers.contains(name))
        m_providers.append(name);
}

QColor TokenChart::colorFor(const QString &provider) const
{
    const int index = int(m_providers.indexOf(provider));
    return kSeries[(index < 0 ? 0 : index) % int(std::size(kSeries))];
}

QString TokenChart::bucketLabel(qint64 startMs) const
{
    const QLocale locale;
    if (m_bucket == Bucket::Hour)
        return locale.toString(QDateTime::fromMSecsSinceEpoch(startMs).time(), QStringLiteral("HH:mm"));
    return locale.toString(QDateTime::fromMSecsSinceEpoch(startMs, Qt::UTC).date(), QStringLiteral("d MMM"));
}

QString TokenChart::emptyText() const
{
    return m_bucket == Bucket::Hour
               ? tr("No tokens in this period yet. Send a prompt from Test prompt or any "
                    "OpenAI client and it shows up here.")
               : tr("No tokens in this period yet.");
}

int TokenChart::legendHeight(int width) const
{
    if (m_providers.isEmpty() || totalTokens() == 0)
        return 0;
    const QFontMetrics fm = fontMetrics();
    int x = kPad;
    int rows = 1;
    for (const QString &provider : m_providers) {
        const int itemWidth = kSwatch + 6 + fm.horizontalAdvance(provider) + 16;
        if (x + itemWidth > width - kPad && x > kPad) {
            ++rows;
            x = kPad;
        }
        x += itemWidth;
    }
    return rows * (fm.height() + 4) + 4;
}

TokenChart::Geometry TokenChart::geometry() const
{
    const QFontMetrics fm = fontMetrics();
    qint64 maxTotal = 0;
    for (const Slot &slot : m_buckets)
        maxTotal = std::max(maxTotal, slot.total);
    const int axisWidth = fm.horizontalAdvance(compact(niceMax(maxTotal))) + 10;
    const int legend = legendHeight(width());
    Geometry g;
    g.legendTop = height() - legend;
    g.plot = QRectF(kPad + axisWidth, kPad + fm.height() / 2.0, width() - 2 * kPad - axisWidth,
                    g.legendTop - kPad - fm.height() - 6 - (kPad + fm.height() / 2.0));
    g.slotWidth = m_buckets.isEmpty() ? 0 : g.plot.width() / m_buckets.size();
    g.barWidth = std::max<qreal>(1.5, g.slotWidth * 0.7);
    return g;
}

void TokenChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QFontMetrics fm = fontMetrics();
    const qint64 total = totalTokens();
    if (total == 0) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(kPad * 2, kPad, -kPad * 2, -kPad), Qt::AlignCenter | Qt::TextWordWrap,
                   emptyText());
        return;
    }

    const Geometry g = geometry();
    qint64 maxTotal = 0;
    for (const Slot &slot : m_buckets)
        maxTotal = std::max(maxTotal, slot.total);
    const qint64 max = niceMax(maxTotal);
    auto yOf = [&](qint64 v) { return g.plot.bottom() - double(v) / double(max) * g.plot.height(); };

    // Value axis: gridlines at 0, half and the top.
    QColor grid = pal.color(QPalette::Mid);
    grid.setAlpha(90);
    for (qint64 v : {qint64(0), max / 2, max}) {
        const qreal y = yOf(v);
        p.setPen(QPen(grid, 1));
        p.drawLine(QPointF(g.plot.left(), y), QPointF(g.plot.right(), y));
        p.setPen(pal.color(QPalette::WindowText));
        p.drawText(QRectF(kPad, y - fm.height() / 2.0, g.plot.left() - kPad - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, compact(v));
    }

    // Bars, stacked in legend order.
    for (int i = 0; i < m_buckets.size(); ++i) {
        const Slot &slot = m_buckets.at(i);
        const qreal x = g.plot.left() + i * g.slotWidth + (g.slotWidth - g.barWidth) / 2;
        qreal top = g.plot.bottom();
        for (const QString &provider : m_providers) {
            const qint64 tokens = slot.tokens.value(provider);
            if (tokens <= 0)
                continue;
            const qreal h = std::max<qreal>(1.0, double(tokens) / double(max) * g.plot.height());
            top -= h;
            p.fillRect(QRectF(x, top, g.barWidth, h), colorFor(provider));
        }
    }

    // Time axis: as many labels as fit.
    p.setPen(pal.color(QPalette::WindowText));
    const int labelWidth = fm.horizontalAdvance(bucketLabel(m_buckets.first().startMs)) + 16;
    const int every = std::max(1, int(std::ceil(labelWidth / std::max<qreal>(1.0, g.slotWidth))));
    for (int i = 0; i < m_buckets.size(); i += every) {
        const qreal centre = g.plot.left() + (i + 0.5) * g.slotWidth;
        p.drawText(QRectF(centre - labelWidth / 2.0, g.plot.bottom() + 4, labelWidth, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, bucketLabel(m_buckets.at(i).startMs));
    }

    // Legend: swatch and name.
    int x = kPad;
    int y = int(g.legendTop) + 2;
    for (const QString &provider : m_providers) {
        const int itemWidth = kSwatch + 6 + fm.horizontalAdvance(provider) + 16;
        if (x + itemWidth > width() - kPad && x > kPad) {
            x = kPad;
            y += fm.height() + 4;
        }
        p.fillRect(QRect(x, y + (fm.height() - kSwatch) / 2, kSwatch, kSwatch), colorFor(provider));
        p.drawText(QRect(x + kSwatch + 6, y, itemWidth - kSwatch - 6, fm.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, provider);
        x += itemWidth;
    }
}

bool TokenChart::event(QEvent *event)
{
    if (event->type() != QEvent::ToolTip)
        return QWidget::event(event);
    auto *help = static_cast<QHelpEvent *>(event);
    const Geometry g = geometry();
    if (m_buckets.isEmpty() || totalTokens() == 0 || !g.plot.contains(help->pos())) {
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    const int index =
        std::clamp(int((help->pos().x() - g.plot.left()) / g.slotWidth), 0, int(m_buckets.size()) - 1);
    const Slot &slot = m_buckets.at(index);
    QStringList lines{tr("%1: %2 tokens").arg(bucketLabel(slot.startMs), DisplayFormat::integer(slot.total))};
    for (const QString &provider : m_providers) {
        if (slot.tokens.value(provider) > 0)
            lines << tr("%1: %2").arg(provider, DisplayFormat::integer(slot.tokens.value(provider)));
    }
    QToolTip::showText(help->globalPos(), lines.join(QLatin1Char('\n')), this);
    return true;
}

void TokenChart::updateDescription()
{
    setAccessibleDescription(summary());
}
