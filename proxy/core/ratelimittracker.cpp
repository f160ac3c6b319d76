#include "ratelimittracker.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcLimits, "chain.limits")

RateLimitTracker::RateLimitTracker(const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
}

std::optional<RateLimitTracker::Cooldown> RateLimitTracker::cooldown(const QString &provider, const QString &model)
{
    auto it = m_pairs.find(key(provider, model));
    if (it == m_pairs.end() || !it->cooldown)
        return std::nullopt;
    if (it->cooldown->untilMs <= m_clock.nowMs()) {
        it->cooldown.reset();
        return std::nullopt;
    }
    return it->cooldown;
}

void RateLimitTracker::markCooldown(const QString &provider, const QString &model, qint64 durationMs, Kind kind,
                                    const QString &reason)
{
    const qint64 until = m_clock.nowMs() + qMax<qint64>(0, durationMs);
    auto &state = m_pairs[key(provider, model)];
    // A longer known cooldown is never shortened by a vaguer signal.
    if (state.cooldown && state.cooldown->untilMs > until && state.cooldown->untilMs > m_clock.nowMs())
        return;
    state.cooldown = Cooldown{until, kind, reason};
    qCInfo(lcLimits).noquote() << provider + QLatin1Char('/') + model << "cooling down for" << durationMs / 1000.0
                               << "s:" << reason;
    emit cooldownStarted(provider, model, until, reason);
}

qint64 RateLimitTracker::escalate(qint64 base, int level, qint64 max)
{
    qint64 ms = base;
    for (int i = 0; i < level && ms < max; ++i)
        ms *= 2;
    return qMin(ms, max);
}

void RateLimitTracker::recordSuccess(const QString &provider, const QString &model)
{
    auto it = m_pairs.find(key(provider, model));
    if (it == m_pairs.end())
        return;
    it->failureStreak = 0;
    it->failureLevel = 0;
}

void RateLimitTracker::recordFailure(const QString &provider, const QString &model, const QString &reason)
{
    auto &state = m_pairs[key(provider, model)];
    if (++state.failureStreak < m_policy.failureThreshold)
        return;
    const qint64 ms = escalate(m_policy.failureCooldownMs, state.failureLevel++, m_policy.failureCooldownMaxMs);
    state.failureStreak = 0;
    markCooldown(provider, model, ms, Kind::Failing,
                 QStringLiteral("%1 failures in a row (last: %2)").arg(m_policy.failureThreshold).arg(reason));
}

void RateLimitTracker::recordMidStreamFailure(const QString &provider, const QString &model, const QString &reason)
{
    auto &state = m_pairs[key(provider, model)];
    if (++state.midStreamStreak < m_policy.midStreamFailureThreshold)
        return;
    const qint64 ms = escalate(m_policy.midStreamCooldownMs, state.midStreamLevel++, m_policy.midStreamCooldownMaxMs);
    state.midStreamStreak = 0;
    markCooldown(provider, model, ms, Kind::MidStream,
                 QStringLiteral("mid-stream failures exceeded threshold (cooldown #%1): %2")
                     .arg(state.midStreamLevel)
                     .arg(reason));
}

void RateLimitTracker::clear()
{
    m_pairs.clear();
}
