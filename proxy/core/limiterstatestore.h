#pragma once

#include <QByteArray>

// Where the rate-limit tracker's state (cooldowns, window counters, learned ceilings: an opaque JSON blob
// from RateLimitTracker::saveState()) is kept between runs, so a restart never re-asks an entry known to be
// empty. Implemented by chain_storage (RequestStore, table limiter_state); used by LimiterPersistence, which
// loads it once at start and saves it when the tracker changes.
class LimiterStateStore
{
public:
    virtual ~LimiterStateStore() = default;

    // The last state saved (also one saved but not yet on disk); empty when there is none. Blocks: call at
    // start, not on a hot path.
    virtual QByteArray loadLimiterState() = 0;
    // Replaces the saved state. Never blocks on the disk: the write happens later, on the store's own thread,
    // and only the newest of several quick saves is written. A clean shutdown commits the last one.
    virtual void saveLimiterState(const QByteArray &state) = 0;
};
