#pragma once

#include "clock.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <optional>

// Knows which provider+model pairs may not be asked right now, and until when. The router asks it before every
// attempt and tells it what each answer meant. Reads time from the injected clock; the rate-limit intelligence
// issue grows this class (headers, quota windows, pooled limits, persistence).
class RateLimitTracker : public QObject
{
    Q_OBJECT

public:
    enum class Kind { RateLimited, Credits, Misconfigured, Failing, MidStream };

    struct Cooldown
    {
        qint64 untilMs = 0;
        Kind kind = Kind::RateLimited;
        QString reason;
    };

    struct Policy
    {
        qint64 creditsCooldownMs = 30 * 60 * 1000;
        qint64 misconfiguredCooldownMs = 60 * 60 * 1000;
        int failureThreshold = 3;        // consecutive 5xx/timeouts/connection errors before a cooldown
        qint64 failureCooldownMs = 30 * 1000;
        qint64 failureCooldownMaxMs = 10 * 60 * 1000;
        int midStreamFailureThreshold = 3;
        qint64 midStreamCooldownMs = 120000;
        qint64 midStreamCooldownMaxMs = 1800000;
    };

    // One provider+model pair the tracker knows, for the UIs and metrics.
    struct TrackedPair
    {
        QString provider;
        QString model;
        std::optional<Cooldown> cooldown; // the active cooldown, if any
    };

    explicit RateLimitTracker(const Clock &clock, QObject *parent = nullptr);

    void setPolicy(const Policy &policy) { m_policy = policy; }
    const Policy &policy() const { return m_policy; }
    const Clock &clock() const { return m_clock; }

    // The active cooldown of a pair, if any (an expired one is forgotten on the spot, with cooldownEnded).
    std::optional<Cooldown> cooldown(const QString &provider, const QString &model);
    void markCooldown(const QString &provider, const QString &model, qint64 durationMs, Kind kind,
                      const QString &reason);

    void recordSuccess(const QString &provider, const QString &model);
    // A transient failure (5xx, timeout, connection error): escalating cooldown after repeated ones.
    void recordFailure(const QString &provider, const QString &model, const QString &reason);
    // A stream that failed after it had started: the reference's midStream* settings.
    void recordMidStreamFailure(const QString &provider, const QString &model, const QString &reason);
    // Forgets every pair (cooldownEnded for each active cooldown).
    void clear();

    // Forgets cooldowns that are over and emits cooldownEnded for each. ProxyService calls it every second;
    // tests call it after moving a ManualClock.
    void sweep();
    // Every pair the tracker knows, sorted by provider and model. Engine thread only, like the rest.
    QList<TrackedPair> snapshot() const;

signals:
    void cooldownStarted(const QString &provider, const QString &model, qint64 untilMs, const QString &reason);
    // A cooldown is over (noticed by sweep(), by a lookup, or by a new cooldown replacing an expired one).
    void cooldownEnded(const QString &provider, const QString &model);

private:
    struct PairState
    {
        std::optional<Cooldown> cooldown;
        int failureStreak = 0;
        int failureLevel = 0;
        int midStreamStreak = 0;
        int midStreamLevel = 0;
    };

    static QString key(const QString &provider, const QString &model) { return provider + QLatin1Char('\x1f') + model; }
    static QPair<QString, QString> splitKey(const QString &key);
    static qint64 escalate(qint64 base, int level, qint64 max);
    // Drops an expired cooldown of the pair and reports it; true if there was one.
    bool expire(const QString &provider, const QString &model);

    const Clock &m_clock;
    Policy m_policy;
    QHash<QString, PairState> m_pairs;
};
