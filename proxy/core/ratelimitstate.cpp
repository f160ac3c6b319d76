// What the tracker shows and keeps: status() for /v1/ratelimits and the UIs, saveState()/restoreState() for
// the store (so a restart never re-asks an entry known to be empty).
#include "ratelimittracker.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <algorithm>
#include <array>

Q_DECLARE_LOGGING_CATEGORY(lcLimits)

namespace {

using Unit = LimitWindow::Unit;
using Span = LimitWindow::Span;
using Kind = RateLimitTracker::Kind;

constexpr int kStateVersion = 1;

constexpr std::array<std::pair<Kind, const char *>, 7> kKindNames = {{
    {Kind::RateLimited, "rate_limited"},
    {Kind::Credits, "credits"},
    {Kind::Misconfigured, "misconfigured"},
    {Kind::Failing, "failing"},
    {Kind::MidStream, "mid_stream"},
    {Kind::Quota, "quota"},
    {Kind::NoAllowance, "no_allowance"},
}};

QString kindName(Kind kind)
{
    for (const auto &[k, name] : kKindNames) {
        if (k == kind)
            return QLatin1String(name);
    }
    return QStringLiteral("rate_limited");
}

std::optional<Kind> kindFrom(const QString &name)
{
    for (const auto &[k, text] : kKindNames) {
        if (name == QLatin1String(text))
            return k;
    }
    return std::nullopt;
}

std::optional<Unit> unitFrom(const QString &name)
{
    if (name == LimitWindow::unitName(Unit::Requests))
        return Unit::Requests;
    if (name == LimitWindow::unitName(Unit::Tokens))
        return Unit::Tokens;
    return std::nullopt;
}

Span spanFrom(const QString &name)
{
    for (const Span span : {Span::Minute, Span::Hour, Span::Day, Span::Month}) {
        if (name == LimitWindow::spanName(span))
            return span;
    }
    return Span::Unknown;
}

Span spanOfMs(qint64 spanMs)
{
    return spanMs <= 60'000 ? Span::Minute : spanMs <= 3'600'000 ? Span::Hour : Span::Day;
}

std::optional<qint64> optionalInteger(const QJsonObject &o, QLatin1String key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? std::optional<qint64>(v.toInteger()) : std::nullopt;
}

void putOptional(QJsonObject &o, QLatin1String key, const std::optional<qint64> &value)
{
    if (value)
        o.insert(key, *value);
}

} // namespace

QString RateLimitTracker::PairStatus::stateName() const
{
    switch (state) {
    case State::Exhausted:
        return QStringLiteral("exhausted");
    case State::Tracking:
        return QStringLiteral("tracking");
    case State::Available:
        break;
    }
    return QStringLiteral("available");
}

bool RateLimitTracker::PairStatus::blocks(const QString &forProvider, const QString &forModel,
                                          qint64 nowMs) const
{
    if (provider != forProvider || !exhausted())
        return false;
    if (cooldownUntilMs > 0 && cooldownUntilMs <= nowMs)
        return false; // over; the next sweep forgets it
    return model == forModel ||
           ((model == allModelsPool() || model == freeModelsPool()) && poolCovers(model, forModel));
}

bool RateLimitTracker::isCooling(const QList<PairStatus> &status, const QString &provider,
                                 const QString &model, qint64 nowMs)
{
    return std::any_of(status.cbegin(), status.cend(),
                       [&](const PairStatus &pair) { return pair.blocks(provider, model, nowMs); });
}

RateLimitTracker::PairStatus RateLimitTracker::pairStatus(const QString &provider, const QString &model) const
{
    const qint64 now = m_clock.nowMs();
    PairStatus st;
    st.provider = provider;
    st.model = model;
    const auto p = m_providers.constFind(provider);
    const Scope *pair = findScope(provider, model, false);
    qint64 lastUpdated = 0;
    std::optional<qint64> cooldownUntil;
    const auto addScope = [&](const Scope *s, bool pooled) {
        if (!s)
            return;
        lastUpdated = std::max(lastUpdated, s->lastUpdatedMs);
        if (s->cooldown && s->cooldown->untilMs > now)
            cooldownUntil = std::max(cooldownUntil.value_or(0), s->cooldown->untilMs);
        for (const KnownWindow &known : s->windows) {
            if (const std::optional<KnownWindow> w = current(known, now, m_policy.cooldownDefaultMs))
                st.windows.append({w->unit, w->span, w->limit, w->remaining, w->resetAtMs,
                                   QStringLiteral("header"), pooled});
        }
        for (const Learned &l : s->learned) {
            qint64 start = l.windowStartMs;
            qint64 used = l.used;
            if (now >= start + l.spanMs) {
                start += (now - start) / l.spanMs * l.spanMs;
                used = 0;
            }
            st.windows.append({l.unit, spanOfMs(l.spanMs), l.limit, std::max<qint64>(0, l.limit - used),
                               start + l.spanMs, QStringLiteral("learned"), pooled});
        }
    };
    addScope(pair, false);
    if (p != m_providers.cend()) {
        for (auto pool = p->pools.cbegin(); pool != p->pools.cend(); ++pool) {
            if (poolCovers(pool.key(), model))
                addScope(&*pool, true);
        }
    }

    const auto rules = m_rules.constFind(provider);
    if (rules != m_rules.cend()) {
        const ManualRateLimits &limits = rules->limits;
        const bool shared = limits.scope == ManualRateLimits::Scope::Provider;
        const Scope *counted = shared ? findScope(provider, allModelsPool(), true) : pair;
        const UsageHistory *usage = counted && counted->usage ? &*counted->usage : nullptr;
        const auto manual = [&](const std::optional<int> &limit, Unit unit, Span span,
                                const SlidingCounter *c) {
            if (!limit)
                return;
            const bool tokens = unit == Unit::Tokens;
            const qint64 used = c ? (tokens ? c->tokensAt(now) : c->requestsAt(now)) : 0;
            // For a sliding window, "reset" is when the oldest counted use leaves it.
            const qint64 frees = used > 0 && c ? c->freesAtMs(tokens, used - 1, now) : 0;
            st.windows.append({unit, span, qint64(*limit), std::max<qint64>(0, *limit - used), frees,
                               QStringLiteral("manual"), shared});
        };
        manual(limits.requestsPerMinute, Unit::Requests, Span::Minute, usage ? &usage->minute : nullptr);
        manual(limits.requestsPerHour, Unit::Requests, Span::Hour, usage ? &usage->hour : nullptr);
        manual(limits.requestsPerDay, Unit::Requests, Span::Day, usage ? &usage->day : nullptr);
        manual(limits.tokensPerMinute, Unit::Tokens, Span::Minute, usage ? &usage->minute : nullptr);
        manual(limits.tokensPerDay, Unit::Tokens, Span::Day, usage ? &usage->day : nullptr);
        st.concurrencyLimit = limits.concurrentRequests;
        st.inUse = shared ? (p != m_providers.cend() ? p->inFlight : 0) : (pair ? pair->inFlight : 0);
    } else {
        st.inUse = pair ? pair->inFlight : 0;
    }

    const Admission verdict = evaluate(provider, model, 0);
    // Busy is not exhausted: full slots, or numbers that wait for the answers in flight.
    if (!verdict.allowed() && verdict.block != Admission::Block::Concurrency && !verdict.inFlightBound) {
        st.state = PairStatus::State::Exhausted;
        st.reason = verdict.reason;
        st.cooldownUntilMs =
            verdict.block == Admission::Block::Cooldown && cooldownUntil ? *cooldownUntil : verdict.freesAtMs;
        return st;
    }
    if (st.windows.isEmpty() && !st.concurrencyLimit) {
        st.state = PairStatus::State::Available;
        return st;
    }
    st.state = PairStatus::State::Tracking;
    st.reason = QStringLiteral("tracking quota");
    QuotaStatus quota;
    quota.lastUpdated = lastUpdated > 0 ? lastUpdated : now;
    for (const WindowStatus &w : std::as_const(st.windows)) {
        if (!w.remaining)
            continue;
        std::optional<qint64> &remaining =
            w.unit == Unit::Requests ? quota.remainingRequests : quota.remainingTokens;
        std::optional<qint64> &reset = w.unit == Unit::Requests ? quota.resetRequestsMs : quota.resetTokensMs;
        if (!remaining || *w.remaining < *remaining) {
            remaining = w.remaining;
            reset = w.resetAtMs > 0 ? std::optional<qint64>(std::max<qint64>(0, w.resetAtMs - now))
                                    : std::nullopt;
        }
    }
    st.quota = quota;
    return st;
}

QList<RateLimitTracker::PairStatus> RateLimitTracker::status() const
{
    const qint64 now = m_clock.nowMs();
    QList<PairStatus> out;
    for (auto p = m_providers.cbegin(); p != m_providers.cend(); ++p) {
        QStringList models = p->models.keys();
        // A pool that knows something shows on every configured model it covers.
        for (auto pool = p->pools.cbegin(); pool != p->pools.cend(); ++pool) {
            const bool knows = (pool->cooldown && pool->cooldown->untilMs > now) ||
                               !pool->windows.isEmpty() || !pool->learned.isEmpty() ||
                               (pool->usage && !pool->usage->isEmpty());
            if (!knows)
                continue;
            for (const QString &m : m_chainModels.value(p.key())) {
                if (poolCovers(pool.key(), m) && !models.contains(m))
                    models.append(m);
            }
        }
        for (const QString &model : std::as_const(models))
            out.append(pairStatus(p.key(), model));
    }
    std::sort(out.begin(), out.end(), [](const PairStatus &a, const PairStatus &b) {
        return a.provider != b.provider ? a.provider < b.provider : a.model < b.model;
    });
    return out;
}

QByteArray RateLimitTracker::saveState() const
{
    const qint64 now = m_clock.nowMs();
    QJsonArray scopes;
    for (auto p = m_providers.cbegin(); p != m_providers.cend(); ++p) {
        const auto rules = m_rules.constFind(p.key());
        const bool manual = rules != m_rules.cend() && !rules->limits.isEmpty();
        for (const bool pool : {false, true}) {
            const QHash<QString, Scope> &hash = pool ? p->pools : p->models;
            for (auto s = hash.cbegin(); s != hash.cend(); ++s) {
                QJsonObject o;
                if (s->cooldown && s->cooldown->untilMs > now) {
                    o.insert(QLatin1String("cooldown"),
                             QJsonObject{{QLatin1String("untilMs"), s->cooldown->untilMs},
                                         {QLatin1String("kind"), kindName(s->cooldown->kind)},
                                         {QLatin1String("reason"), s->cooldown->reason}});
                }
                if (s->failureLevel > 0)
                    o.insert(QLatin1String("failureLevel"), s->failureLevel);
                if (s->midStreamLevel > 0)
                    o.insert(QLatin1String("midStreamLevel"), s->midStreamLevel);
                QJsonArray windows;
                for (const KnownWindow &w : s->windows) {
                    QJsonObject jw{{QLatin1String("unit"), LimitWindow::unitName(w.unit)},
                                   {QLatin1String("span"), LimitWindow::spanName(w.span)},
                                   {QLatin1String("resetAtMs"), w.resetAtMs},
                                   {QLatin1String("updatedAtMs"), w.updatedAtMs}};
                    putOptional(jw, QLatin1String("limit"), w.limit);
                    putOptional(jw, QLatin1String("remaining"), w.remaining);
                    windows.append(jw);
                }
                if (!windows.isEmpty())
                    o.insert(QLatin1String("windows"), windows);
                QJsonArray learned;
                for (const Learned &l : s->learned) {
                    learned.append(QJsonObject{{QLatin1String("unit"), LimitWindow::unitName(l.unit)},
                                               {QLatin1String("spanMs"), l.spanMs},
                                               {QLatin1String("limit"), l.limit},
                                               {QLatin1String("windowStartMs"), l.windowStartMs},
                                               {QLatin1String("used"), l.used}});
                }
                if (!learned.isEmpty())
                    o.insert(QLatin1String("learned"), learned);
                // Counters matter where manual limits count them; elsewhere they only feed learning.
                if (manual && s->usage && !s->usage->isEmpty()) {
                    o.insert(QLatin1String("usage"),
                             QJsonObject{{QLatin1String("minute"), s->usage->minute.save()},
                                         {QLatin1String("hour"), s->usage->hour.save()},
                                         {QLatin1String("day"), s->usage->day.save()}});
                }
                if (o.isEmpty())
                    continue;
                o.insert(QLatin1String("provider"), p.key());
                o.insert(QLatin1String("model"), s.key());
                o.insert(QLatin1String("pool"), pool);
                if (s->lastUpdatedMs > 0)
                    o.insert(QLatin1String("lastUpdatedMs"), s->lastUpdatedMs);
                scopes.append(o);
            }
        }
    }
    const QJsonObject root{{QLatin1String("version"), kStateVersion},
                           {QLatin1String("savedAtMs"), now},
                           {QLatin1String("scopes"), scopes}};
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

bool RateLimitTracker::restoreState(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    const QJsonObject root = doc.object();
    if (error.error != QJsonParseError::NoError || !doc.isObject() ||
        root.value(QLatin1String("version")).toInt() != kStateVersion ||
        !root.value(QLatin1String("scopes")).isArray()) {
        qCWarning(lcLimits) << "ignoring saved rate-limit state: not a version" << kStateVersion << "state"
                            << (error.error != QJsonParseError::NoError ? error.errorString() : QString());
        return false;
    }
    const qint64 now = m_clock.nowMs();
    int skipped = 0;
    QList<std::tuple<QString, QString, qint64, QString>> started;
    for (const QJsonValue &value : root.value(QLatin1String("scopes")).toArray()) {
        const QJsonObject o = value.toObject();
        const QString provider = o.value(QLatin1String("provider")).toString();
        const QString model = o.value(QLatin1String("model")).toString();
        const bool pool = o.value(QLatin1String("pool")).toBool();
        if (provider.isEmpty() || model.isEmpty() ||
            (pool && model != allModelsPool() && model != freeModelsPool())) {
            ++skipped;
            continue;
        }
        Scope &s = scope(provider, model, pool);
        const QJsonObject cd = o.value(QLatin1String("cooldown")).toObject();
        const qint64 until = cd.value(QLatin1String("untilMs")).toInteger();
        if (until > now && (!s.cooldown || s.cooldown->untilMs < until)) {
            const QString reason = cd.value(QLatin1String("reason")).toString();
            s.cooldown = Cooldown{
                until, kindFrom(cd.value(QLatin1String("kind")).toString()).value_or(Kind::RateLimited),
                reason};
            started.append({provider, model, until, reason});
        }
        s.failureLevel = std::max(s.failureLevel, o.value(QLatin1String("failureLevel")).toInt());
        s.midStreamLevel = std::max(s.midStreamLevel, o.value(QLatin1String("midStreamLevel")).toInt());
        s.lastUpdatedMs = std::max(s.lastUpdatedMs, o.value(QLatin1String("lastUpdatedMs")).toInteger());
        for (const QJsonValue &wv : o.value(QLatin1String("windows")).toArray()) {
            const QJsonObject jw = wv.toObject();
            const std::optional<Unit> unit = unitFrom(jw.value(QLatin1String("unit")).toString());
            KnownWindow w;
            w.span = spanFrom(jw.value(QLatin1String("span")).toString());
            w.limit = optionalInteger(jw, QLatin1String("limit"));
            w.remaining = optionalInteger(jw, QLatin1String("remaining"));
            w.resetAtMs = jw.value(QLatin1String("resetAtMs")).toInteger();
            w.updatedAtMs = jw.value(QLatin1String("updatedAtMs")).toInteger();
            if (!unit || !current(w, now, m_policy.cooldownDefaultMs) || (!w.limit && !w.remaining))
                continue; // unknown, or says nothing any more
            w.unit = *unit;
            const auto same = std::find_if(s.windows.begin(), s.windows.end(), [&w](const KnownWindow &k) {
                return k.unit == w.unit && k.span == w.span;
            });
            if (same == s.windows.end())
                s.windows.append(w);
            else if (same->updatedAtMs < w.updatedAtMs)
                *same = w;
        }
        for (const QJsonValue &lv : o.value(QLatin1String("learned")).toArray()) {
            const QJsonObject jl = lv.toObject();
            const std::optional<Unit> unit = unitFrom(jl.value(QLatin1String("unit")).toString());
            const Learned l{unit.value_or(Unit::Requests), jl.value(QLatin1String("spanMs")).toInteger(),
                            jl.value(QLatin1String("limit")).toInteger(),
                            jl.value(QLatin1String("windowStartMs")).toInteger(),
                            jl.value(QLatin1String("used")).toInteger()};
            if (!unit || l.spanMs <= 0 || l.limit <= 0 || l.used < 0)
                continue;
            s.learned.erase(
                std::remove_if(s.learned.begin(), s.learned.end(),
                               [&l](const Learned &x) { return x.unit == l.unit && x.spanMs == l.spanMs; }),
                s.learned.end());
            s.learned.append(l);
        }
        const QJsonObject usage = o.value(QLatin1String("usage")).toObject();
        if (!usage.isEmpty()) {
            if (!s.usage)
                s.usage.emplace();
            s.usage->minute.restore(usage.value(QLatin1String("minute")).toArray(), now);
            s.usage->hour.restore(usage.value(QLatin1String("hour")).toArray(), now);
            s.usage->day.restore(usage.value(QLatin1String("day")).toArray(), now);
        }
    }
    if (skipped > 0)
        qCWarning(lcLimits) << "saved rate-limit state:" << skipped << "malformed entries ignored";
    for (const auto &[provider, model, until, reason] : std::as_const(started))
        emit cooldownStarted(provider, model, until, reason);
    return true;
}
