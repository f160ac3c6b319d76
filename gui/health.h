#pragma once

#include "config.h"
#include "ratelimittracker.h"

#include <QCoreApplication>
#include <QIcon>
#include <QList>
#include <QString>
#include <QStringList>

// The proxy's health as the tray and the status bar show it, from the config, the limiter snapshot and the
// pause switch. Worst state wins: paused, then a chain with no usable entry, then some entries cooling down.
struct Health
{
    Q_DECLARE_TR_FUNCTIONS(Health)

public:
    enum class Level { Good, Cooling, Exhausted, Paused };

    Level level = Level::Good;
    QStringList coolingEntries;  // "provider/model" of every entry cooling down
    QStringList exhaustedChains; // chains whose every entry is cooling down

    static Health compute(const Config &config, const QList<RateLimitTracker::PairStatus> &limits,
                          bool paused, qint64 nowMs);

    // One line for a tooltip or the status bar: "All providers available", "2 entries cooling down", ...
    QString summary() const;
    // The tray icon for a level: the application icon recoloured, with a badge (a pause sign, an exclamation
    // mark, a clock), so the state is not told by colour alone.
    static QIcon icon(Level level);
    // The plain application icon (windows, dialogs).
    static QIcon appIcon();
};
