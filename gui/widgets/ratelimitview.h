#pragma once

#include "config.h"
#include "ratelimittracker.h"

#include <QList>
#include <QWidget>

#include <functional>

class QLabel;
class QStackedWidget;
class QTableWidget;
class QTimer;

// The dashboard's live limiter status: one row per chain entry (and per pair the limiter knows), its status
// in words, a countdown to its next reset that ticks every second locally, what the provider said of its
// quota, and a Reset button on entries that are cooling down. Fed with ServiceBridge::limits() snapshots.
class RateLimitView : public QWidget
{
    Q_OBJECT

public:
    explicit RateLimitView(QWidget *parent = nullptr);

    // `config` (may be null) adds its chain entries the limiter has not seen yet, as available.
    void setStatus(const QList<RateLimitTracker::PairStatus> &pairs, const Config *config);
    // The clock the countdowns read (the wall clock by default; tests pin it).
    void setClock(std::function<qint64()> nowMs);

    int rowCount() const;
    QTableWidget *table() const { return m_table; }
    // Words for a status and the next reset it waits for (0 when none).
    static QString statusText(const RateLimitTracker::PairStatus &pair);
    static qint64 nextResetMs(const RateLimitTracker::PairStatus &pair, qint64 nowMs);
    static QString details(const RateLimitTracker::PairStatus &pair);

signals:
    void resetRequested(const QString &provider, const QString &model);

private:
    enum Column { EntryColumn, StatusColumn, ResetColumn, DetailsColumn, ActionColumn, ColumnCount };

    void rebuild();
    void tick();
    static QString key(const QString &provider, const QString &model);

    QList<RateLimitTracker::PairStatus> m_pairs;
    std::function<qint64()> m_now;
    QStackedWidget *m_stack = nullptr;
    QTableWidget *m_table = nullptr;
    QLabel *m_empty = nullptr;
    QTimer *m_ticker = nullptr;
};
