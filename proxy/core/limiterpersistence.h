#pragma once

#include <QObject>
#include <QTimer>

class Clock;
class LimiterStateStore;
class RateLimitTracker;

// Keeps the rate-limit tracker's state (cooldowns, window counters, learned ceilings) in a LimiterStateStore,
// so a restart never re-asks an entry known to be empty. Restores the saved state once, when constructed,
// then saves whenever the tracker reports a change worth keeping, at most once a second (a burst of changes
// is one save). The engine creates it once the request log is open and calls flush() before it closes the
// store; the store must outlive it. Lives on the tracker's thread.
class LimiterPersistence : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kMinSaveIntervalMs = 1000;

    // `store` may be null: then nothing is restored or saved.
    LimiterPersistence(RateLimitTracker &tracker, LimiterStateStore *store, const Clock &clock,
                       QObject *parent = nullptr);

    // Saves the tracker's state now (shutdown); a save that was waiting is done with it.
    void flush();
    bool restored() const { return m_restored; } // a saved state was found and taken
    int saveCount() const { return m_saves; }
    // Milliseconds until the waiting save, -1 when none waits.
    int saveDueInMs() const { return m_timer.isActive() ? m_timer.remainingTime() : -1; }

private:
    void onStateChanged();
    void save();

    RateLimitTracker &m_tracker;
    LimiterStateStore *m_store;
    const Clock &m_clock;
    QTimer m_timer;
    qint64 m_lastSaveMs = -1;
    bool m_restored = false;
    int m_saves = 0;
};
