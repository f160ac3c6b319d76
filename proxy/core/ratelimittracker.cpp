// The tracker's state keeping: scopes (pairs and provider pools), cooldowns and their signals, escalation,
// clearing and sweeping. What answers teach lives in ratelimitanswers.cpp, admission in
// ratelimitadmission.cpp, status and persistence in ratelimitstate.cpp.
#include "ratelimittracker.h"

#include <QLoggingCategory>

#include <algorithm>
#include <tuple>

Q_LOGGING_CATEGORY(lcLimits, "chain.limits")

namespace {

QString label(const QString &provider, const QString &scopeName)
{
    return provider + QLatin1Char('/') + scopeName;
}

} // namespace

RateLimitTracker::RateLimitTracker(const Clock &clock, QObject *parent) : QObject(parent), m_clock(clock) {}

RateLimitTracker::~RateLimitTracker() = default;

void RateLimitTracker::setProvider(const QString &id, const QString &type, const ManualRateLimits &limits)
{
    m_rules.insert(id, Rules{type, limits});
}

void RateLimitTracker::applyConfig(const Config &config)
{
    m_rules.clear();
    for (const ProviderConfig &provider : config.providers)
        setProvider(provider.id, provider.type, provider.rateLimits);
    m_chainModels.clear();
    for (const ChainConfig &chain : config.chains) {
        for (const ChainEntry &entry : chain.entries) {
            QStringList &models = m_chainModels[entry.provider];
            if (!models.contains(entry.model))
                models.append(entry.model);
        }
    }
}

bool RateLimitTracker::poolCovers(const QString &pool, const QString &model)
{
    return pool == allModelsPool() || (pool == freeModelsPool() && model.endsWith(QLatin1String(":free")));
}

RateLimitTracker::Scope *RateLimitTracker::findScope(const QString &provider, const QString &scopeName,
                                                     bool pool)
{
    const auto p = m_providers.find(provider);
    if (p == m_providers.end())
        return nullptr;
    QHash<QString, Scope> &scopes = pool ? p->pools : p->models;
    const auto s = scopes.find(scopeName);
    return s == scopes.end() ? nullptr : &*s;
}

const RateLimitTracker::Scope *RateLimitTracker::findScope(const QString &provider, const QString &scopeName,
                                                           bool pool) const
{
    const auto p = m_providers.constFind(provider);
    if (p == m_providers.cend())
        return nullptr;
    const QHash<QString, Scope> &scopes = pool ? p->pools : p->models;
    const auto s = scopes.constFind(scopeName);
    return s == scopes.cend() ? nullptr : &*s;
}

RateLimitTracker::Scope &RateLimitTracker::scope(const QString &provider, const QString &scopeName, bool pool)
{
    ProviderState &p = m_providers[provider];
    return pool ? p.pools[scopeName] : p.models[scopeName];
}

bool RateLimitTracker::sharesProviderLimits(const QString &provider) const
{
    const auto rules = m_rules.constFind(provider);
    return rules != m_rules.cend() && rules->limits.scope == ManualRateLimits::Scope::Provider;
}

QString RateLimitTracker::poolFor(const QString &provider, const QString &model, bool providerWide,
                                  bool fromSuccess) const
{
    if (sharesProviderLimits(provider))
        return allModelsPool();
    const auto rules = m_rules.constFind(provider);
    // OpenRouter's :free models share the account's daily and per-minute pool; its unsuffixed headers on a
    // success describe that pool, while a 429 says itself when a limit is per model (limit_rpm/…).
    const bool freePool = rules != m_rules.cend() && rules->type == QLatin1String("openrouter") &&
                          model.endsWith(QLatin1String(":free"));
    if (freePool && (providerWide || fromSuccess))
        return freeModelsPool();
    return providerWide ? allModelsPool() : QString();
}

std::optional<RateLimitTracker::KnownWindow> RateLimitTracker::current(const KnownWindow &w, qint64 nowMs,
                                                                       qint64 ttlMs)
{
    if (w.resetAtMs > nowMs || (w.resetAtMs == 0 && w.updatedAtMs + ttlMs > nowMs))
        return w;
    if (w.resetAtMs == 0 || !w.limit || w.resetAtMs + ttlMs <= nowMs)
        return std::nullopt;
    // Past its reset the window is full again; when it resets next, the next answer will say.
    KnownWindow refilled = w;
    refilled.remaining = w.limit;
    refilled.resetAtMs = 0;
    refilled.updatedAtMs = w.resetAtMs;
    return refilled;
}

qint64 RateLimitTracker::escalate(qint64 base, int level, qint64 max)
{
    qint64 ms = base;
    for (int i = 0; i < level && ms < max; ++i)
        ms *= 2;
    return qMin(ms, max);
}

bool RateLimitTracker::expireScope(const QString &provider, const QString &scopeName, bool pool)
{
    Scope *s = findScope(provider, scopeName, pool);
    if (!s || !s->cooldown || s->cooldown->untilMs > m_clock.nowMs())
        return false;
    s->cooldown.reset();
    qCInfo(lcLimits).noquote() << label(provider, scopeName) << "is available again";
    emit cooldownEnded(provider, scopeName);
    emit entryFreed(provider, pool ? QString() : scopeName);
    emit stateChanged();
    return true;
}

void RateLimitTracker::expireCovering(const QString &provider, const QString &model)
{
    expireScope(provider, model, false);
    expireScope(provider, allModelsPool(), true);
    if (poolCovers(freeModelsPool(), model))
        expireScope(provider, freeModelsPool(), true);
}

void RateLimitTracker::startCooldown(const QString &provider, const QString &scopeName, bool pool,
                                     qint64 untilMs, Kind kind, const QString &reason)
{
    expireScope(provider, scopeName, pool); // an expired cooldown ends before a new one starts
    const qint64 now = m_clock.nowMs();
    Scope &s = scope(provider, scopeName, pool);
    // A longer known cooldown is never shortened by a vaguer signal, nor restarted by the same one.
    if (s.cooldown && s.cooldown->untilMs >= untilMs && s.cooldown->untilMs > now)
        return;
    s.cooldown = Cooldown{untilMs, kind, reason};
    qCInfo(lcLimits).noquote() << label(provider, scopeName) << "cooling down for" << (untilMs - now) / 1000.0
                               << "s:" << reason;
    emit cooldownStarted(provider, scopeName, untilMs, reason);
    emit stateChanged();
}

std::optional<RateLimitTracker::Cooldown> RateLimitTracker::cooldown(const QString &provider,
                                                                     const QString &model)
{
    expireCovering(provider, model);
    std::optional<Cooldown> longest;
    const auto consider = [&longest](const Scope *s) {
        if (s && s->cooldown && (!longest || s->cooldown->untilMs > longest->untilMs))
            longest = s->cooldown;
    };
    consider(findScope(provider, model, false));
    consider(findScope(provider, allModelsPool(), true));
    if (poolCovers(freeModelsPool(), model))
        consider(findScope(provider, freeModelsPool(), true));
    return longest;
}

void RateLimitTracker::markCooldown(const QString &provider, const QString &model, qint64 durationMs,
                                    Kind kind, const QString &reason)
{
    startCooldown(provider, model, false, m_clock.nowMs() + qMax<qint64>(0, durationMs), kind, reason);
}

void RateLimitTracker::applySharedCooldown(const QString &provider, const QString &model, qint64 durationMs,
                                           Kind kind, const QString &reason)
{
    const bool pool = model == allModelsPool() || model == freeModelsPool();
    startCooldown(provider, model, pool, m_clock.nowMs() + qMax<qint64>(0, durationMs), kind, reason);
}

std::optional<RateLimitTracker::Cooldown> RateLimitTracker::scopeCooldown(const QString &provider,
                                                                          const QString &scopeName) const
{
    const bool pool = scopeName == allModelsPool() || scopeName == freeModelsPool();
    const Scope *s = findScope(provider, scopeName, pool);
    return s ? s->cooldown : std::nullopt;
}

void RateLimitTracker::recordSuccess(const QString &provider, const QString &model)
{
    Scope *s = findScope(provider, model, false);
    if (!s)
        return;
    s->failureStreak = 0;
    s->failureLevel = 0;
    s->midStreamStreak = 0;
    s->midStreamLevel = 0;
}

void RateLimitTracker::recordFailure(const QString &provider, const QString &model, const QString &reason)
{
    Scope &s = scope(provider, model, false);
    if (++s.failureStreak < m_policy.failureThreshold)
        return;
    const qint64 ms = escalate(m_policy.failureCooldownMs, s.failureLevel++, m_policy.failureCooldownMaxMs);
    s.failureStreak = 0;
    markCooldown(
        provider, model, ms, Kind::Failing,
        QStringLiteral("%1 failures in a row (last: %2)").arg(m_policy.failureThreshold).arg(reason));
}

void RateLimitTracker::recordMidStreamFailure(const QString &provider, const QString &model,
                                              const QString &reason)
{
    Scope &s = scope(provider, model, false);
    if (++s.midStreamStreak < m_policy.midStreamFailureThreshold)
        return;
    const int level = s.midStreamLevel++;
    const qint64 ms = escalate(m_policy.midStreamCooldownMs, level, m_policy.midStreamCooldownMaxMs);
    s.midStreamStreak = 0;
    markCooldown(provider, model, ms, Kind::MidStream,
                 QStringLiteral("mid-stream failures exceeded threshold (cooldown #%1): %2")
                     .arg(level + 1)
                     .arg(reason));
}

void RateLimitTracker::clear()
{
    QList<QPair<QString, QString>> ended;
    for (auto p = m_providers.begin(); p != m_providers.end(); ++p) {
        for (QHash<QString, Scope> *scopes : {&p->models, &p->pools}) {
            for (auto s = scopes->begin(); s != scopes->end();) {
                if (s->cooldown && s->cooldown->untilMs > m_clock.nowMs())
                    ended.append({p.key(), s.key()});
                if (s->inFlight > 0) { // attempts in flight keep their slots
                    Scope kept;
                    kept.inFlight = s->inFlight;
                    kept.inFlightTokens = s->inFlightTokens;
                    kept.unseenRequests = s->unseenRequests;
                    kept.unseenTokens = s->unseenTokens;
                    *s = kept;
                    ++s;
                } else {
                    s = scopes->erase(s);
                }
            }
        }
    }
    std::sort(ended.begin(), ended.end());
    for (const auto &[provider, model] : std::as_const(ended))
        emit cooldownEnded(provider, model);
    emit stateReset(QString(), QString());
    emit stateChanged();
}

void RateLimitTracker::reset(const QString &provider, const QString &model)
{
    const auto p = m_providers.find(provider);
    if (p == m_providers.end())
        return;
    QList<QPair<QString, bool>> targets; // scope name, pool
    if (model.isEmpty()) {
        for (auto s = p->models.cbegin(); s != p->models.cend(); ++s)
            targets.append({s.key(), false});
        for (auto s = p->pools.cbegin(); s != p->pools.cend(); ++s)
            targets.append({s.key(), true});
    } else {
        targets = {{model, false}, {allModelsPool(), true}};
        if (poolCovers(freeModelsPool(), model))
            targets.append({freeModelsPool(), true});
    }
    QStringList ended;
    for (const auto &[name, pool] : std::as_const(targets)) {
        QHash<QString, Scope> &scopes = pool ? p->pools : p->models;
        const auto s = scopes.find(name);
        if (s == scopes.end())
            continue;
        if (s->cooldown && s->cooldown->untilMs > m_clock.nowMs())
            ended.append(name);
        if (s->inFlight > 0) {
            Scope kept;
            kept.inFlight = s->inFlight;
            kept.inFlightTokens = s->inFlightTokens;
            kept.unseenRequests = s->unseenRequests;
            kept.unseenTokens = s->unseenTokens;
            *s = kept;
        } else {
            scopes.erase(s);
        }
    }
    qCInfo(lcLimits).noquote() << "state of" << label(provider, model.isEmpty() ? allModelsPool() : model)
                               << "reset by hand";
    for (const QString &name : std::as_const(ended))
        emit cooldownEnded(provider, name);
    emit entryFreed(provider, model);
    emit stateReset(provider, model);
    emit stateChanged();
}

void RateLimitTracker::sweep()
{
    const qint64 now = m_clock.nowMs();
    struct Over
    {
        QString provider;
        QString name;
        bool pool;
        bool operator<(const Over &o) const
        {
            return std::tie(provider, pool, name) < std::tie(o.provider, o.pool, o.name);
        }
    };
    QList<Over> over;
    QList<Over> refilled;
    for (auto p = m_providers.begin(); p != m_providers.end(); ++p) {
        for (const bool pool : {false, true}) {
            QHash<QString, Scope> &scopes = pool ? p->pools : p->models;
            for (auto s = scopes.begin(); s != scopes.end(); ++s) {
                if (s->cooldown && s->cooldown->untilMs <= now)
                    over.append({p.key(), s.key(), pool});
                // Windows past their reset refill (when their size is known) or say nothing any more.
                bool changed = false;
                bool wasEmpty = false;
                for (auto w = s->windows.begin(); w != s->windows.end();) {
                    const std::optional<KnownWindow> updated = current(*w, now, m_policy.cooldownDefaultMs);
                    if (updated && updated->resetAtMs == w->resetAtMs) {
                        ++w;
                        continue;
                    }
                    changed = true;
                    wasEmpty = wasEmpty || (w->remaining && *w->remaining <= 0);
                    if (updated) {
                        *w = *updated;
                        ++w;
                    } else {
                        w = s->windows.erase(w);
                    }
                }
                if (changed)
                    refilled.append({p.key(), wasEmpty ? s.key() : QString(), pool});
            }
        }
    }
    std::sort(over.begin(), over.end());
    for (const Over &o : std::as_const(over))
        expireScope(o.provider, o.name, o.pool);
    for (const Over &r : std::as_const(refilled)) {
        if (!r.name.isEmpty())
            emit entryFreed(r.provider, r.pool ? QString() : r.name);
    }
    if (!refilled.isEmpty())
        emit stateChanged();
}

QList<RateLimitTracker::TrackedPair> RateLimitTracker::snapshot() const
{
    const qint64 now = m_clock.nowMs();
    QList<TrackedPair> pairs;
    for (auto p = m_providers.cbegin(); p != m_providers.cend(); ++p) {
        QStringList models = p->models.keys();
        bool poolCooling = false;
        for (auto pool = p->pools.cbegin(); pool != p->pools.cend(); ++pool)
            poolCooling = poolCooling || (pool->cooldown && pool->cooldown->untilMs > now);
        if (poolCooling) { // a cooling pool shows on every configured model it covers
            for (const QString &m : m_chainModels.value(p.key())) {
                if (!models.contains(m))
                    models.append(m);
            }
        }
        for (const QString &model : std::as_const(models)) {
            TrackedPair pair{p.key(), model, std::nullopt};
            const auto consider = [&](const Scope *s) {
                if (s && s->cooldown && s->cooldown->untilMs > now &&
                    (!pair.cooldown || s->cooldown->untilMs > pair.cooldown->untilMs))
                    pair.cooldown = s->cooldown;
            };
            consider(findScope(p.key(), model, false));
            for (auto pool = p->pools.cbegin(); pool != p->pools.cend(); ++pool) {
                if (poolCovers(pool.key(), model))
                    consider(&*pool);
            }
            if (p->models.contains(model) || pair.cooldown)
                pairs << pair;
        }
    }
    std::sort(pairs.begin(), pairs.end(), [](const TrackedPair &a, const TrackedPair &b) {
        return a.provider != b.provider ? a.provider < b.provider : a.model < b.model;
    });
    return pairs;
}
