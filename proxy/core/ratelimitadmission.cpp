// Admission: the one check the router makes before each attempt (cooldowns, announced windows, learned
// ceilings, manual sliding windows, the request's predicted tokens, concurrency slots), and the reservation
// an allowed attempt holds until release(). Runs per attempt: no allocation unless the entry is refused.
#include "ratelimittracker.h"

#include <QDateTime>
#include <QTimeZone>

#include <limits>

namespace {

using Block = RateLimitTracker::Admission::Block;
using Unit = LimitWindow::Unit;

constexpr qint64 kNever = std::numeric_limits<qint64>::max();
constexpr qint64 kSlotHintMs = 1000; // a full set of concurrency slots usually frees within a second

QString clockText(qint64 atMs, qint64 nowMs)
{
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(atMs, QTimeZone::utc());
    const bool today = at.date() == QDateTime::fromMSecsSinceEpoch(nowMs, QTimeZone::utc()).date();
    return at.toString(today ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString spanText(qint64 spanMs)
{
    return spanMs <= 60'000      ? QStringLiteral("minute")
           : spanMs <= 3'600'000 ? QStringLiteral("hour")
                                 : QStringLiteral("day");
}

// The binding refusal among several: one waiting cannot cure wins, else the one that lasts longest.
struct Refusal
{
    Block block = Block::None;
    qint64 freesAtMs = 0; // kNever: waiting does not help
    QString reason;
    bool firm = false; // some refusal stands whatever the attempts in flight report

    // inFlightBound: the numbers would allow it but for attempts in flight that have not reported yet.
    void offer(Block kind, qint64 freesAt, const QString &why, bool inFlightBound = false)
    {
        firm = firm || !inFlightBound;
        if (block != Block::None && freesAt <= freesAtMs)
            return;
        block = kind;
        freesAtMs = freesAt;
        reason = why;
    }
};

QString predicted(qint64 need, qint64 left, qint64 untilMs, qint64 nowMs)
{
    return QStringLiteral("predicted: needs ~%1 tokens, %2 left until %3")
        .arg(need)
        .arg(left)
        .arg(clockText(untilMs, nowMs));
}

QString tooLarge(qint64 need, qint64 limit)
{
    return QStringLiteral("predicted: needs ~%1 tokens, more than the %2 the window allows")
        .arg(need)
        .arg(limit);
}

} // namespace

RateLimitTracker::Admission RateLimitTracker::evaluate(const QString &provider, const QString &model,
                                                       qint64 tokens) const
{
    const qint64 now = m_clock.nowMs();
    const qint64 need = qMax<qint64>(0, tokens);
    Refusal refusal;
    const auto p = m_providers.constFind(provider);
    const Scope *pair = findScope(provider, model, false);
    const Scope *pools[2] = {findScope(provider, allModelsPool(), true),
                             poolCovers(freeModelsPool(), model) ? findScope(provider, freeModelsPool(), true)
                                                                 : nullptr};
    const Scope *scopes[3] = {pair, pools[0], pools[1]};
    for (const Scope *s : scopes) {
        if (!s)
            continue;
        if (s->cooldown && s->cooldown->untilMs > now) {
            const bool hopeless =
                s->cooldown->kind == Kind::Misconfigured || s->cooldown->kind == Kind::NoAllowance;
            refusal.offer(Block::Cooldown, hopeless ? kNever : s->cooldown->untilMs, s->cooldown->reason);
        }
        // What the provider announced, less what is in flight and not yet in its numbers.
        const int unseenRequests = s == pair ? s->unseenRequests : p->unseenRequests;
        const qint64 unseenTokens = s == pair ? s->unseenTokens : p->unseenTokens;
        for (const KnownWindow &known : s->windows) {
            const std::optional<KnownWindow> w = current(known, now, m_policy.cooldownDefaultMs);
            if (!w || !w->remaining)
                continue;
            // An unknown reset (a refilled window) frees as soon as the attempts in flight report back.
            const qint64 until = w->resetAtMs > 0 ? w->resetAtMs : now + kSlotHintMs;
            if (w->unit == Unit::Requests) {
                if (*w->remaining - unseenRequests <= 0)
                    refusal.offer(Block::Quota, until, QStringLiteral("proactive: remaining requests = 0"),
                                  *w->remaining > 0);
                continue;
            }
            const qint64 left = *w->remaining - unseenTokens;
            if (w->limit && need > *w->limit)
                refusal.offer(Block::Predicted, kNever, tooLarge(need, *w->limit));
            else if (left <= 0)
                refusal.offer(Block::Quota, until, QStringLiteral("proactive: remaining tokens = 0"),
                              *w->remaining >= qMax<qint64>(1, need));
            else if (need > left)
                refusal.offer(Block::Predicted, until, predicted(need, left, until, now),
                              need <= *w->remaining);
        }
        for (const Learned &l : s->learned) {
            qint64 start = l.windowStartMs;
            qint64 used = l.used;
            if (now >= start + l.spanMs) { // a new window since: nothing used in it yet
                start += (now - start) / l.spanMs * l.spanMs;
                used = 0;
            }
            const qint64 end = start + l.spanMs;
            if (l.unit == Unit::Requests) {
                if (used >= l.limit)
                    refusal.offer(Block::Learned, end,
                                  QStringLiteral("learned limit: %1 requests per %2 reached")
                                      .arg(l.limit)
                                      .arg(spanText(l.spanMs)));
            } else if (used >= l.limit) {
                refusal.offer(Block::Learned, end,
                              QStringLiteral("learned limit: %1 tokens per %2 reached")
                                  .arg(l.limit)
                                  .arg(spanText(l.spanMs)));
            } else if (used + need > l.limit) {
                refusal.offer(Block::Predicted, end, predicted(need, l.limit - used, end, now));
            }
        }
    }

    const auto rules = m_rules.constFind(provider);
    if (rules != m_rules.cend() && !rules->limits.isEmpty()) {
        const ManualRateLimits &limits = rules->limits;
        const bool shared = limits.scope == ManualRateLimits::Scope::Provider;
        const Scope *counted = shared ? pools[0] : pair;
        const UsageHistory *usage = counted && counted->usage ? &*counted->usage : nullptr;
        const auto requestLimit = [&](const std::optional<int> &limit, const SlidingCounter *c,
                                      const char *what) {
            if (!limit || !c || c->requestsAt(now) < *limit)
                return;
            refusal.offer(Block::Manual, c->freesAtMs(false, *limit - 1, now),
                          QStringLiteral("manual limit: %1 exceeded").arg(QLatin1String(what)));
        };
        const auto tokenLimit = [&](const std::optional<int> &limit, const SlidingCounter *c,
                                    const char *what) {
            if (!limit)
                return;
            const qint64 used = c ? c->tokensAt(now) : 0;
            const auto freesAt = [c, now](qint64 keep) {
                return c ? c->freesAtMs(true, qMax<qint64>(0, keep), now) : now;
            };
            if (need > *limit) {
                refusal.offer(Block::Predicted, kNever, tooLarge(need, *limit));
            } else if (used >= *limit) {
                refusal.offer(Block::Manual, freesAt(qMin<qint64>(*limit - need, *limit - 1)),
                              QStringLiteral("manual limit: %1 exceeded").arg(QLatin1String(what)));
            } else if (used + need > *limit) {
                const qint64 at = freesAt(*limit - need);
                refusal.offer(Block::Predicted, at, predicted(need, *limit - used, at, now));
            }
        };
        requestLimit(limits.requestsPerMinute, usage ? &usage->minute : nullptr, "RPM");
        requestLimit(limits.requestsPerHour, usage ? &usage->hour : nullptr, "RPH");
        requestLimit(limits.requestsPerDay, usage ? &usage->day : nullptr, "daily request limit");
        tokenLimit(limits.tokensPerMinute, usage ? &usage->minute : nullptr, "TPM");
        tokenLimit(limits.tokensPerDay, usage ? &usage->day : nullptr, "daily token limit");
        if (limits.concurrentRequests) {
            const int inUse =
                shared ? (p != m_providers.cend() ? p->inFlight : 0) : (pair ? pair->inFlight : 0);
            if (inUse >= *limits.concurrentRequests)
                refusal.offer(Block::Concurrency, now + kSlotHintMs,
                              QStringLiteral("concurrency: %1 of %2 slots in use")
                                  .arg(inUse)
                                  .arg(*limits.concurrentRequests));
        }
    }

    Admission verdict;
    verdict.block = refusal.block;
    verdict.reason = refusal.reason;
    verdict.freesAtMs = refusal.freesAtMs == kNever ? 0 : refusal.freesAtMs;
    verdict.inFlightBound = refusal.block != Block::None && !refusal.firm;
    return verdict;
}

RateLimitTracker::Admission RateLimitTracker::check(const QString &provider, const QString &model,
                                                    qint64 estimatedTokens) const
{
    return evaluate(provider, model, estimatedTokens);
}

RateLimitTracker::Admission RateLimitTracker::admit(const QString &provider, const QString &model,
                                                    qint64 estimatedTokens)
{
    expireCovering(provider, model);
    const qint64 now = m_clock.nowMs();
    // Counters move to now first, so the checks read running totals.
    if (Scope *s = findScope(provider, model, false); s && s->usage)
        s->usage->advance(now);
    if (Scope *s = findScope(provider, allModelsPool(), true); s && s->usage)
        s->usage->advance(now);
    Admission admission = evaluate(provider, model, estimatedTokens);
    if (admission.allowed())
        reserve(admission, provider, model, qMax<qint64>(0, estimatedTokens));
    return admission;
}

void RateLimitTracker::reserve(Admission &admission, const QString &provider, const QString &model,
                               qint64 tokens)
{
    const qint64 now = m_clock.nowMs();
    ProviderState &p = m_providers[provider];
    Scope &pair = p.models[model];
    ++pair.inFlight;
    pair.inFlightTokens += tokens;
    ++pair.unseenRequests;
    pair.unseenTokens += tokens;
    ++p.inFlight;
    p.inFlightTokens += tokens;
    ++p.unseenRequests;
    p.unseenTokens += tokens;
    countUse(provider, model, 1, tokens, now);
    const bool providerUsage = sharesProviderLimits(provider);
    admission.ticket = m_nextTicket++;
    m_tickets.insert(admission.ticket, Ticket{provider, model, now, tokens, false, providerUsage});
    emit attemptAdmitted(provider, model, tokens);
    emit stateChanged();
}

void RateLimitTracker::countUse(const QString &provider, const QString &model, qint64 requests, qint64 tokens,
                                qint64 now)
{
    ProviderState &p = m_providers[provider];
    Scope &pair = p.models[model];
    if (!pair.usage)
        pair.usage.emplace();
    pair.usage->add(now, requests, tokens);
    if (sharesProviderLimits(provider)) {
        Scope &pool = p.pools[allModelsPool()];
        if (!pool.usage)
            pool.usage.emplace();
        pool.usage->add(now, requests, tokens);
    }
    // Learned ceilings count in their anchored windows.
    const auto countLearned = [&](Scope *s) {
        if (!s)
            return;
        for (Learned &l : s->learned) {
            if (now < l.windowStartMs)
                continue;
            if (now >= l.windowStartMs + l.spanMs) {
                l.windowStartMs += (now - l.windowStartMs) / l.spanMs * l.spanMs;
                l.used = 0;
            }
            l.used += l.unit == Unit::Requests ? requests : tokens;
        }
    };
    countLearned(&pair);
    for (auto pool = p.pools.begin(); pool != p.pools.end(); ++pool) {
        if (poolCovers(pool.key(), model))
            countLearned(&*pool);
    }
}

void RateLimitTracker::applySharedUse(const QString &provider, const QString &model, qint64 requests,
                                      qint64 tokens)
{
    if (requests <= 0 && tokens <= 0)
        return;
    countUse(provider, model, qMax<qint64>(0, requests), qMax<qint64>(0, tokens), m_clock.nowMs());
    emit stateChanged();
}

void RateLimitTracker::release(quint64 ticket, qint64 tokensUsed)
{
    const auto t = m_tickets.find(ticket);
    if (t == m_tickets.end())
        return;
    const Ticket done = *t;
    m_tickets.erase(t);
    const auto p = m_providers.find(done.provider);
    if (p == m_providers.end())
        return;
    Scope *pair = findScope(done.provider, done.model, false);

    --p->inFlight;
    p->inFlightTokens -= done.tokens;
    if (!done.seen) {
        --p->unseenRequests;
        p->unseenTokens -= done.tokens;
    }
    if (pair) {
        --pair->inFlight;
        pair->inFlightTokens -= done.tokens;
        if (!done.seen) {
            --pair->unseenRequests;
            pair->unseenTokens -= done.tokens;
        }
    }
    const qint64 delta = tokensUsed - done.tokens;
    if (tokensUsed >= 0 && delta != 0) { // the reservation becomes what the answer really used
        const auto correct = [&](Scope *s) {
            if (!s)
                return;
            if (s->usage)
                s->usage->adjustTokens(done.admittedAtMs, delta);
            for (Learned &l : s->learned) {
                if (l.unit == Unit::Tokens && done.admittedAtMs >= l.windowStartMs &&
                    done.admittedAtMs < l.windowStartMs + l.spanMs)
                    l.used = qMax<qint64>(0, l.used + delta);
            }
        };
        correct(pair);
        if (done.providerUsage)
            correct(findScope(done.provider, allModelsPool(), true));
        emit stateChanged();
    }
    // Its slot and its reservation are free again (a pool's other models may fit now too).
    emit entryFreed(done.provider, QString());
}

int RateLimitTracker::inFlight(const QString &provider, const QString &model) const
{
    const Scope *s = findScope(provider, model, false);
    return s ? s->inFlight : 0;
}
