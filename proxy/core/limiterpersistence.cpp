#include "limiterpersistence.h"

#include "clock.h"
#include "limiterstatestore.h"
#include "ratelimittracker.h"

#include <QLoggingCategory>

// The tracker's category name, so one filter (chain.limits) shows everything about limits.
Q_LOGGING_CATEGORY(lcLimiterPersistence, "chain.limits")

LimiterPersistence::LimiterPersistence(RateLimitTracker &tracker, LimiterStateStore *store,
                                       const Clock &clock, QObject *parent)
    : QObject(parent), m_tracker(tracker), m_store(store), m_clock(clock)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &LimiterPersistence::save);
    if (!m_store)
        return;

    // A state the tracker cannot read is its to report; the next save replaces it.
    const QByteArray state = m_store->loadLimiterState();
    if (!state.isEmpty() && m_tracker.restoreState(state)) {
        m_restored = true;
        qCInfo(lcLimiterPersistence) << "restored the rate-limit state saved by the previous run";
    }
    // Connected after the restore: taking the saved state back is not a change to save.
    connect(&m_tracker, &RateLimitTracker::stateChanged, this, &LimiterPersistence::onStateChanged);
}

void LimiterPersistence::flush()
{
    if (m_store)
        save();
}

void LimiterPersistence::onStateChanged()
{
    if (m_timer.isActive())
        return; // the waiting save takes this change too
    // The first change after a quiet second saves on the next turn of the event loop (so a burst from one
    // request is one save); later ones wait for the second since the last save to be over.
    const qint64 sinceLastMs = m_lastSaveMs < 0 ? kMinSaveIntervalMs : m_clock.nowMs() - m_lastSaveMs;
    m_timer.start(int(qBound<qint64>(0, kMinSaveIntervalMs - sinceLastMs, kMinSaveIntervalMs)));
}

void LimiterPersistence::save()
{
    m_timer.stop();
    m_lastSaveMs = m_clock.nowMs();
    ++m_saves;
    m_store->saveLimiterState(m_tracker.saveState());
}
