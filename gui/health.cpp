#include "health.h"

#include <QFile>
#include <QLocale>
#include <QPainter>
#include <QPixmap>
#include <QSvgRenderer>

namespace {

QByteArray iconSvg(Health::Level level)
{
    QFile file(QStringLiteral(":/icons/429chain.svg"));
    QByteArray svg = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    if (svg.isEmpty())
        return svg;
    // The icon's own notes: state variants recolour #background and the joint's gap stroke (the same colour).
    static const QByteArray kBase = "#0f766e";
    QByteArray colour = kBase;
    QByteArray badge;
    switch (level) {
    case Health::Level::Good:
        break;
    case Health::Level::Cooling: // amber with a clock
        colour = "#b45309";
        badge = "<circle cx='98' cy='98' r='28' fill='#ffffff'/><circle cx='98' cy='98' r='20' fill='none' "
                "stroke='#b45309' stroke-width='7'/><path d='M98 86 V99 H108' fill='none' stroke='#b45309' "
                "stroke-width='7' stroke-linecap='round' stroke-linejoin='round'/>";
        break;
    case Health::Level::Exhausted: // red with an exclamation mark
        colour = "#b91c1c";
        badge = "<circle cx='98' cy='98' r='28' fill='#ffffff'/><rect x='93' y='80' width='10' height='24' "
                "rx='5' fill='#b91c1c'/><circle cx='98' cy='113' r='5.5' fill='#b91c1c'/>";
        break;
    case Health::Level::Paused: // grey with a pause sign
        colour = "#52525b";
        badge = "<circle cx='98' cy='98' r='28' fill='#ffffff'/><rect x='86' y='84' width='9' height='28' "
                "rx='3' fill='#52525b'/><rect x='101' y='84' width='9' height='28' rx='3' fill='#52525b'/>";
        break;
    }
    svg.replace(kBase, colour);
    if (!badge.isEmpty())
        svg.replace(QByteArrayLiteral("</svg>"), QByteArray(badge + "</svg>"));
    return svg;
}

QIcon render(const QByteArray &svg)
{
    QIcon icon;
    QSvgRenderer renderer(svg);
    if (!renderer.isValid())
        return icon;
    for (int size : {16, 22, 24, 32, 48, 64, 128, 256}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        renderer.render(&painter);
        painter.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace

Health Health::compute(const Config &config, const QList<RateLimitTracker::PairStatus> &limits, bool paused,
                       qint64 nowMs)
{
    Health health;
    for (const auto &chain : config.chains) {
        int cooling = 0;
        for (const auto &entry : chain.entries) {
            if (RateLimitTracker::isCooling(limits, entry.provider, entry.model, nowMs)) {
                ++cooling;
                const QString name = entry.provider + QLatin1Char('/') + entry.model;
                if (!health.coolingEntries.contains(name))
                    health.coolingEntries << name;
            }
        }
        if (!chain.entries.isEmpty() && cooling == chain.entries.size())
            health.exhaustedChains << chain.name;
    }
    if (paused)
        health.level = Level::Paused;
    else if (!health.exhaustedChains.isEmpty())
        health.level = Level::Exhausted;
    else if (!health.coolingEntries.isEmpty())
        health.level = Level::Cooling;
    return health;
}

QString Health::summary() const
{
    // Names, not just a count: "Cooling down: groq/llama-3.1-8b-instant, cerebras/llama3.1-8b and 2 more".
    auto names = [](const QStringList &list) {
        constexpr int kShown = 3;
        if (list.size() <= kShown)
            return QLocale().createSeparatedList(list);
        return tr("%1 and %2 more")
            .arg(list.mid(0, kShown).join(QLatin1String(", ")))
            .arg(list.size() - kShown);
    };
    switch (level) {
    case Level::Paused:
        return tr("Paused: new requests are refused");
    case Level::Exhausted:
        return tr("Exhausted: no entry can serve chain %1").arg(names(exhaustedChains));
    case Level::Cooling:
        return tr("Cooling down: %1").arg(names(coolingEntries));
    case Level::Good:
        break;
    }
    return tr("All providers available");
}

QIcon Health::icon(Level level)
{
    static QIcon cache[4];
    QIcon &icon = cache[int(level)];
    if (icon.isNull())
        icon = render(iconSvg(level));
    return icon;
}

QIcon Health::appIcon()
{
    return icon(Level::Good);
}
