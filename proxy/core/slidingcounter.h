#pragma once

#include <QJsonArray>
#include <QList>
#include <QtGlobal>

// Requests and tokens counted over a sliding span (the last minute, hour or day) in bounded memory: a ring
// of equal slices plus one, so the window never under-counts (it covers between span and span + one slice).
// Adding and reading are O(1) amortised; only a blocked admission walks the ring to tell when room frees.
// Used by the rate-limit tracker for manual limits (RPM/RPH/RPD/TPM/TPD) and for learning ceilings.
class SlidingCounter
{
public:
    SlidingCounter(qint64 spanMs, int slices);

    qint64 spanMs() const { return m_spanMs; }

    // Forgets slices that left the window at nowMs. Time going backwards is ignored.
    void advance(qint64 nowMs);
    // Counts at nowMs (advance first).
    void add(qint64 nowMs, qint64 requests, qint64 tokens);
    // Corrects tokens counted at atMs (a reservation made at admission, replaced by the real usage); ignored
    // when that slice has left the window. Never takes a slice below zero.
    void adjustTokens(qint64 atMs, qint64 delta);

    // Totals as of the last advance().
    qint64 requests() const { return m_requests; }
    qint64 tokens() const { return m_tokens; }
    // Totals at nowMs without changing anything: the running totals when advance(nowMs) came first (the
    // admission path), else a walk over the ring (snapshots).
    qint64 requestsAt(qint64 nowMs) const { return sumAt(nowMs, false); }
    qint64 tokensAt(qint64 nowMs) const { return sumAt(nowMs, true); }

    // The earliest time at or after nowMs at which at most `keep` requests (tokens) remain counted.
    qint64 freesAtMs(bool tokens, qint64 keep, qint64 nowMs) const;

    bool isEmpty() const { return m_requests == 0 && m_tokens == 0; }
    void clear();

    // Non-empty slices as [[index, requests, tokens], ...], for the tracker's saved state.
    QJsonArray save() const;
    // Restores saved slices (those still in the window at nowMs); malformed rows are skipped.
    void restore(const QJsonArray &slices, qint64 nowMs);

private:
    struct Slice
    {
        qint64 index = -1; // slice number (time / slice length), -1 when empty
        qint64 requests = 0;
        qint64 tokens = 0;
    };

    qint64 sliceOf(qint64 ms) const { return ms / m_sliceMs; }
    qint64 sumAt(qint64 nowMs, bool tokens) const;

    qint64 m_spanMs;
    qint64 m_sliceMs;
    QList<Slice> m_slices; // slices + 1, slot = index % size
    qint64 m_head = -1;    // slice of the last advance()
    qint64 m_requests = 0;
    qint64 m_tokens = 0;
};

// The three spans manual limits and learned ceilings use, kept together for one provider+model pair (or one
// provider when its limits are shared): a minute of 1 s slices, an hour of 1 min, a day of 15 min.
struct UsageHistory
{
    SlidingCounter minute{60'000, 60};
    SlidingCounter hour{3'600'000, 60};
    SlidingCounter day{86'400'000, 96};

    void advance(qint64 nowMs);
    void add(qint64 nowMs, qint64 requests, qint64 tokens);
    void adjustTokens(qint64 atMs, qint64 delta);
    bool isEmpty() const { return minute.isEmpty() && hour.isEmpty() && day.isEmpty(); }
    // The counter that covers spanMs (a minute, an hour, otherwise a day).
    SlidingCounter &forSpan(qint64 spanMs);
    const SlidingCounter &forSpan(qint64 spanMs) const;
};
