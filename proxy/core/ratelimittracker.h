#pragma once

#include "clock.h"
#include "config.h"
#include "limithints.h"
#include "slidingcounter.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <optional>

// Knows how much free quota each provider+model pair has left and when it comes back, so the router never
// sends a request to an entry known to be empty. The router asks admit() before every attempt (cooldowns,
// windows the provider announced, manual sliding windows, learned ceilings, the request's predicted tokens,
// concurrency slots), tells recordAnswer() what every answer said (LimitParsing::parse of its status,
// headers and body) and release() when the attempt ends. Quota the provider shares across models
// (OpenRouter's :free pool, `rateLimits.scope: provider`) lives in a pool that every covered model consults.
// Reads time from the injected clock; lives on the engine thread. ProxyService owns it; the HTTP routes read
// status(), storage persists saveState().
class RateLimitTracker : public QObject
{
    Q_OBJECT

public:
    // Why a cooldown runs. NoAllowance and Misconfigured are not cured by waiting (Retry-After ignores them).
    enum class Kind { RateLimited, Credits, Misconfigured, Failing, MidStream, Quota, NoAllowance };

    struct Cooldown
    {
        qint64 untilMs = 0;
        Kind kind = Kind::RateLimited;
        QString reason;
    };

    struct Policy
    {
        qint64 cooldownDefaultMs = 60000; // a 429 that says nothing about when
        qint64 creditsCooldownMs = 30 * 60 * 1000;
        qint64 misconfiguredCooldownMs = 60 * 60 * 1000;
        qint64 noAllowanceCooldownMs = 6 * 60 * 60 * 1000; // "limit 0": no free allowance for this model
        qint64 capacityCooldownMs = 15 * 1000;             // provider busy, not our quota
        int failureThreshold = 3; // consecutive 5xx/timeouts/connection errors before a cooldown
        qint64 failureCooldownMs = 30 * 1000;
        qint64 failureCooldownMaxMs = 10 * 60 * 1000;
        int midStreamFailureThreshold = 3;
        qint64 midStreamCooldownMs = 120000;
        qint64 midStreamCooldownMaxMs = 1800000;
    };

    // The verdict for one attempt. Allowed: `ticket` holds the reservation until release(). Refused: why,
    // and when the entry may serve this request (0 when waiting does not help: misconfigured, no allowance,
    // a request larger than the window).
    struct Admission
    {
        enum class Block { None, Cooldown, Quota, Manual, Learned, Predicted, Concurrency };

        quint64 ticket = 0;
        Block block = Block::None;
        QString reason;
        qint64 freesAtMs = 0;
        // Refused only because attempts in flight have not reported back yet: their answers (which come
        // within a request timeout) may show the room is there. Concurrency slots never count as this.
        bool inFlightBound = false;

        bool allowed() const { return block == Block::None; }
    };

    // What an answer did to the entry, for the attempt record.
    struct AnswerEffect
    {
        QString reason;               // "429 rate limited: …"; empty for a 2xx
        qint64 cooldownUntilMs = 0;   // a cooldown started (or was already longer), else 0
        bool skipThisRequest = false; // 413 too large for this tier: next entry, no cooldown
    };

    // One pair the tracker knows, for the metrics.
    struct TrackedPair
    {
        QString provider;
        QString model;
        std::optional<Cooldown> cooldown; // the active cooldown (the pair's or its pool's), if any
    };

    // One window as /v1/ratelimits shows it.
    struct WindowStatus
    {
        LimitWindow::Unit unit = LimitWindow::Unit::Requests;
        LimitWindow::Span span = LimitWindow::Span::Unknown;
        std::optional<qint64> limit;
        std::optional<qint64> remaining;
        qint64 resetAtMs = 0;      // 0 when unknown
        QString source;            // "header", "manual" or "learned"
        bool providerWide = false; // shared by the provider's models (pool or scope: provider)
    };

    // The reference's quota object: the tightest request and token windows.
    struct QuotaStatus
    {
        std::optional<qint64> remainingRequests;
        std::optional<qint64> remainingTokens;
        std::optional<qint64> resetRequestsMs; // ms from now, as the reference
        std::optional<qint64> resetTokensMs;
        qint64 lastUpdated = 0; // epoch ms of the last answer that told us
    };

    struct PairStatus
    {
        // Exhausted: refused now (a cooldown, a window at zero); busy slots are not exhausted. Tracking: the
        // tracker knows windows or a concurrency limit. Available: nothing known that limits it.
        enum class State { Available, Tracking, Exhausted };

        QString provider;
        QString model; // or a pool name (allModelsPool(), freeModelsPool())
        State state = State::Available;
        qint64 cooldownUntilMs = 0; // when an exhausted pair frees (0 otherwise, or when unknown)
        QString reason;
        std::optional<QuotaStatus> quota; // while tracking
        QList<WindowStatus> windows;
        int inUse = 0; // attempts in flight
        std::optional<int> concurrencyLimit;

        bool exhausted() const { return state == State::Exhausted; }
        // "available", "tracking" or "exhausted", as /v1/ratelimits shows it.
        QString stateName() const;
        // Does this pair's (or pool's) exhaustion keep `model` of `provider` from serving at nowMs? A pool
        // covers the models it pools (every model, or OpenRouter's :free ones); an exhaustion whose cooldown
        // is over does not count (the next sweep forgets it).
        bool blocks(const QString &provider, const QString &model, qint64 nowMs) const;
    };

    explicit RateLimitTracker(const Clock &clock, QObject *parent = nullptr);
    ~RateLimitTracker() override;

    void setPolicy(const Policy &policy) { m_policy = policy; }
    const Policy &policy() const { return m_policy; }
    const Clock &clock() const { return m_clock; }

    // Provider types (what their headers mean, OpenRouter's :free pool) and manual limits. Applies at once;
    // counters are kept. applyConfig does it for every provider of a config and remembers its chain pairs.
    void setProvider(const QString &id, const QString &type, const ManualRateLimits &limits);
    void applyConfig(const Config &config);

    // The router's call before each attempt: allowed (with a ticket) or why not and until when.
    Admission admit(const QString &provider, const QString &model, qint64 estimatedTokens);
    // The same verdict without reserving anything (and without ending expired cooldowns).
    Admission check(const QString &provider, const QString &model, qint64 estimatedTokens) const;
    // The attempt ended (any way). tokensUsed: real usage (the reservation is corrected), or < 0 to keep the
    // reservation as it was.
    void release(quint64 ticket, qint64 tokensUsed);
    int inFlight(const QString &provider, const QString &model) const;

    // Learns from one upstream answer (2xx or error) and applies what it means: windows, proactive
    // exhaustion, 429/402/401/403 cooldowns, learned ceilings, 5xx escalation. `ticket` (0 if none) is the
    // attempt's, so its reservation is not counted twice.
    AnswerEffect recordAnswer(const QString &provider, const QString &model, int status,
                              const LimitSignal &signal, const QString &message, quint64 ticket = 0);

    // The active cooldown of a pair or of a pool covering it, the longest (an expired one is forgotten on
    // the spot, with cooldownEnded).
    std::optional<Cooldown> cooldown(const QString &provider, const QString &model);
    void markCooldown(const QString &provider, const QString &model, qint64 durationMs, Kind kind,
                      const QString &reason);

    void recordSuccess(const QString &provider, const QString &model);
    // A transient failure (5xx, timeout, connection error): escalating cooldown after repeated ones.
    void recordFailure(const QString &provider, const QString &model, const QString &reason);
    // A stream that failed after it had started: the reference's midStream* settings.
    void recordMidStreamFailure(const QString &provider, const QString &model, const QString &reason);
    // Forgets every pair (cooldownEnded for each active cooldown). Attempts in flight keep their slots.
    void clear();
    // Clears one pair's state by hand, and the pools that cover it; `model` empty: every pair and pool of
    // the provider. Attempts in flight keep their slots.
    void reset(const QString &provider, const QString &model);

    // What another replica on the same database learned (LimiterSharing): a cooldown of a pair, or of a pool
    // when `model` is a pool name, lasting `durationMs` from now; attempts it admitted, counted in this
    // replica's manual windows and learned ceilings as if admitted here (no reservation, no slot).
    void applySharedCooldown(const QString &provider, const QString &model, qint64 durationMs, Kind kind,
                             const QString &reason);
    void applySharedUse(const QString &provider, const QString &model, qint64 requests, qint64 tokens);
    // The cooldown of one scope exactly as cooldownStarted named it (a pair, or a pool name).
    std::optional<Cooldown> scopeCooldown(const QString &provider, const QString &scopeName) const;

    // Forgets cooldowns that are over and windows that have reset. ProxyService calls it every second;
    // tests call it after moving a ManualClock.
    void sweep();
    // Every pair the tracker knows, sorted by provider and model. Engine thread only, like the rest.
    QList<TrackedPair> snapshot() const;
    // Every pair the tracker knows (touched, or covered by a pool that knows something), sorted.
    QList<PairStatus> status() const;

    // Cooldowns, window counters and learned ceilings as JSON, for the store.
    QByteArray saveState() const;
    // Restores saveState() output, dropping what has expired by the clock; false (with a warning, nothing
    // changed) on garbage.
    bool restoreState(const QByteArray &json);

    // Is `model` of `provider` cooling down in `status` (a status() snapshot, maybe copied to another
    // thread) at nowMs: its own pair or a pool that covers it? What the tray's health is made of.
    static bool isCooling(const QList<PairStatus> &status, const QString &provider, const QString &model,
                          qint64 nowMs);
    // Does `pool` (allModelsPool(), freeModelsPool()) hold the quota of `model`?
    static bool poolCovers(const QString &pool, const QString &model);

    // Pool names as they appear in signals, status and saved state.
    static QString allModelsPool() { return QStringLiteral("*"); }
    static QString freeModelsPool() { return QStringLiteral("*:free"); }

signals:
    // `model` is a pool name ("*", "*:free") when the provider's pool cools down.
    void cooldownStarted(const QString &provider, const QString &model, qint64 untilMs,
                         const QString &reason);
    // A cooldown is over (noticed by sweep(), by a lookup, or by a new cooldown replacing an expired one).
    void cooldownEnded(const QString &provider, const QString &model);
    // Something that kept an entry from serving may have ended: a cooldown, a window reset, an attempt that
    // reported back or gave its slot and reservation back. `model` empty: any model of the provider. For
    // requests waiting on attempts in flight, and the request queue.
    void entryFreed(const QString &provider, const QString &model);
    // Something worth persisting changed (cooldowns, windows, counters, learned ceilings). Often: debounce.
    void stateChanged();
    // An attempt was admitted (its reservation counts in the windows): LimiterSharing tells the other
    // replicas. Emitted on the hot path: receivers only note it.
    void attemptAdmitted(const QString &provider, const QString &model, qint64 tokens);
    // reset() or clear() ran (`provider` empty: clear), for LimiterSharing.
    void stateReset(const QString &provider, const QString &model);

private:
    // A window the provider announced in headers.
    struct KnownWindow
    {
        LimitWindow::Unit unit = LimitWindow::Unit::Requests;
        LimitWindow::Span span = LimitWindow::Span::Unknown;
        std::optional<qint64> limit;
        std::optional<qint64> remaining;
        qint64 resetAtMs = 0; // when it refills; 0 = unknown, trusted for cooldownDefaultMs
        qint64 updatedAtMs = 0;
    };
    // A ceiling learned from a 429 without numbers: `limit` per anchored window of spanMs.
    struct Learned
    {
        LimitWindow::Unit unit = LimitWindow::Unit::Requests;
        qint64 spanMs = 60000;
        qint64 limit = 0;
        qint64 windowStartMs = 0;
        qint64 used = 0;
    };
    // Everything known about one pair, or one provider pool.
    struct Scope
    {
        std::optional<Cooldown> cooldown;
        int failureStreak = 0;
        int failureLevel = 0;
        int midStreamStreak = 0;
        int midStreamLevel = 0;
        QList<KnownWindow> windows;
        QList<Learned> learned;
        std::optional<UsageHistory> usage; // attempts admitted (manual limits, learning)
        int inFlight = 0;
        qint64 inFlightTokens = 0;
        int unseenRequests = 0; // in flight and not yet reflected in the announced windows
        qint64 unseenTokens = 0;
        qint64 lastUpdatedMs = 0;
    };
    struct ProviderState
    {
        QHash<QString, Scope> models;
        QHash<QString, Scope> pools; // allModelsPool(), freeModelsPool()
        int inFlight = 0;
        qint64 inFlightTokens = 0;
        int unseenRequests = 0;
        qint64 unseenTokens = 0;
    };
    struct Rules
    {
        QString type;
        ManualRateLimits limits;
    };
    struct Ticket
    {
        QString provider;
        QString model;
        qint64 admittedAtMs = 0;
        qint64 tokens = 0;
        bool seen = false;          // its answer updated the windows
        bool providerUsage = false; // counted in the provider pool's usage too
    };

    // ratelimittracker.cpp
    // A window as it stands at nowMs: refilled to its limit once its reset has passed (trusted for
    // ttlMs after that), nullopt once it says nothing any more.
    static std::optional<KnownWindow> current(const KnownWindow &w, qint64 nowMs, qint64 ttlMs);
    static qint64 escalate(qint64 base, int level, qint64 max);
    Scope *findScope(const QString &provider, const QString &scopeName, bool pool);
    const Scope *findScope(const QString &provider, const QString &scopeName, bool pool) const;
    Scope &scope(const QString &provider, const QString &scopeName, bool pool);
    QString poolFor(const QString &provider, const QString &model, bool providerWide, bool fromSuccess) const;
    bool sharesProviderLimits(const QString &provider) const;
    bool expireScope(const QString &provider, const QString &scopeName, bool pool);
    void expireCovering(const QString &provider, const QString &model);
    void startCooldown(const QString &provider, const QString &scopeName, bool pool, qint64 untilMs,
                       Kind kind, const QString &reason);

    // ratelimitanswers.cpp
    void learnWindows(const QString &provider, const QString &model, const LimitSignal &signal, int status);
    void learnCeiling(const QString &provider, const QString &model, const LimitSignal &signal,
                      qint64 untilMs);
    AnswerEffect rateLimited(const QString &provider, const QString &model, const LimitSignal &signal,
                             const QString &message);

    // ratelimitadmission.cpp
    Admission evaluate(const QString &provider, const QString &model, qint64 tokens) const;
    void reserve(Admission &admission, const QString &provider, const QString &model, qint64 tokens);
    // Counts one attempt (or `requests` of another replica) in the usage windows and learned ceilings.
    void countUse(const QString &provider, const QString &model, qint64 requests, qint64 tokens, qint64 now);

    // ratelimitstate.cpp
    PairStatus pairStatus(const QString &provider, const QString &model) const;

    const Clock &m_clock;
    Policy m_policy;
    QHash<QString, ProviderState> m_providers;
    QHash<QString, Rules> m_rules;
    QHash<QString, QStringList> m_chainModels; // provider -> models its chain entries use
    QHash<quint64, Ticket> m_tickets;
    quint64 m_nextTicket = 1;
};
