#include "ratelimittracker.h"

#include <QLoggingCategory>

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcLimits, "chain.limits")

RateLimitTracker::RateLimitTracker(const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
}

std::optional<RateLimitTracker::Cooldown> RateLimitTracker::cooldown(const QString &provider, const QString &model)
{
    if (expire(provider, model))
        return std::nullopt;
    const auto it = m_pairs.constFind(key(provider, model));
    if (it == m_pairs.cend())
        return std::nullopt;
    return it->cooldown;
}

bool RateLimitTracker::expire(const QString &provider, const QString &model)
{
    auto it = m_pairs.find(key(provider, model));
    if (it == m_pairs.end() || !it->cooldown || it->cooldown->untilMs > m_clock.nowMs())
        return false;
    it->cooldown.reset();
    qCInfo(lcLimits).noquote() << provider + QLatin1Char('/') + model << "is available again";
    emit cooldownEnded(provider, model);
    return true;
}

void RateLimitTracker::markCooldown(const QString &provider, const QString &model, qint64 durationMs, Kind kind,
                                    const QString &reason)
{
    expire(provider, model); // an expired cooldown ends before a new one starts
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

QPair<QString, QString> RateLimitTracker::splitKey(const QString &key)
{
    const qsizetype cut = key.indexOf(QLatin1Char('\x1f'));
    return {key.left(cut), key.mid(cut + 1)};
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
    const QHash<QString, PairState> pairs = std::exchange(m_pairs, {});
    for (auto it = pairs.cbegin(); it != pairs.cend(); ++it) {
        if (it->cooldown && it->cooldown->untilMs > m_clock.nowMs()) {
            const auto [provider, model] = splitKey(it.key());
            emit cooldownEnded(provider, model);
        }
    }
}

void RateLimitTracker::sweep()
{
    const qint64 now = m_clock.nowMs();
    QList<QString> over;
    for (auto it = m_pairs.cbegin(); it != m_pairs.cend(); ++it) {
        if (it->cooldown && it->cooldown->untilMs <= now)
            over << it.key();
    }
    std::sort(over.begin(), over.end());
    for (const QString &k : std::as_const(over)) {
        const auto [provider, model] = splitKey(k);
        expire(provider, model);
    }
}

QList<RateLimitTracker::TrackedPair> RateLimitTracker::snapshot() const
{
    const qint64 now = m_clock.nowMs();
    QList<TrackedPair> pairs;
    pairs.reserve(m_pairs.size());
    for (auto it = m_pairs.cbegin(); it != m_pairs.cend(); ++it) {
        const auto [provider, model] = splitKey(it.key());
        TrackedPair pair{provider, model, std::nullopt};
        if (it->cooldown && it->cooldown->untilMs > now)
            pair.cooldown = it->cooldown;
        pairs << pair;
    }
    std::sort(pairs.begin(), pairs.end(), [](const TrackedPair &a, const TrackedPair &b) {
        return a.provider != b.provider ? a.provider < b.provider : a.model < b.model;
    });
    return pairs;
}
