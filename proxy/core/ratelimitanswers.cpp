// What each upstream answer teaches the tracker: the windows it announces (and proactive exhaustion when one
// is empty), what a 429 / 402 / 401 / 403 / 413 / 5xx means for the entry, and the ceilings learned from 429s
// that come without numbers.
#include "ratelimittracker.h"

#include <QLoggingCategory>

#include <algorithm>
#include <tuple>

Q_DECLARE_LOGGING_CATEGORY(lcLimits)

namespace {

using Unit = LimitWindow::Unit;
using Span = LimitWindow::Span;

constexpr int kMaxMessageChars = 200;
// Resets this close belong to one window period (providers round them: "7.66s", "33011.382867").
constexpr qint64 kSamePeriodMs = 1000;

QString label(const QString &provider, const QString &scopeName)
{
    return provider + QLatin1Char('/') + scopeName;
}

QString shortMessage(const QString &message)
{
    return message.size() > kMaxMessageChars ? message.left(kMaxMessageChars) + QChar(0x2026) : message;
}

qint64 spanMsOf(Span span)
{
    switch (span) {
    case Span::Minute:
        return 60'000;
    case Span::Hour:
        return 3'600'000;
    case Span::Day:
        return 86'400'000;
    case Span::Month:
    case Span::Unknown:
        break;
    }
    return 0;
}

} // namespace

RateLimitTracker::AnswerEffect RateLimitTracker::recordAnswer(const QString &provider, const QString &model,
                                                              int status, const LimitSignal &signal,
                                                              const QString &message, quint64 ticket)
{
    const auto t = m_tickets.find(ticket);
    const bool reported = t != m_tickets.end() && !t->seen;
    if (reported) { // its answer is in the windows from now on
        t->seen = true;
        if (Scope *s = findScope(provider, model, false)) {
            --s->unseenRequests;
            s->unseenTokens -= t->tokens;
        }
        ProviderState &p = m_providers[provider];
        --p.unseenRequests;
        p.unseenTokens -= t->tokens;
    }
    learnWindows(provider, model, signal, status);
    if (reported) // a request refused for this attempt's reservation may fit now
        emit entryFreed(provider, QString());

    AnswerEffect effect;
    if (status >= 200 && status < 300)
        return effect;
    const QString text = shortMessage(message);
    const qint64 now = m_clock.nowMs();
    const auto cool = [&](const QString &pool, qint64 untilMs, Kind kind, const QString &reason) {
        startCooldown(provider, pool.isEmpty() ? model : pool, !pool.isEmpty(), untilMs, kind, reason);
        effect.cooldownUntilMs = cooldown(provider, model).value_or(Cooldown{untilMs, kind, reason}).untilMs;
        effect.reason = reason;
    };
    if (signal.kind == LimitSignal::Kind::ZeroAllowance) {
        cool(sharesProviderLimits(provider) ? allModelsPool() : QString(),
             now + m_policy.noAllowanceCooldownMs, Kind::NoAllowance,
             QStringLiteral("%1 no free allowance for this model (check the plan or the model): %2")
                 .arg(status)
                 .arg(text));
    } else if (status == 413 || signal.kind == LimitSignal::Kind::TooLargeForTier) {
        effect.skipThisRequest = true;
        effect.reason = QStringLiteral("%1 request too large for this tier: %2").arg(status).arg(text);
    } else if (status == 429) {
        effect = rateLimited(provider, model, signal, text);
    } else if (status == 402 || signal.kind == LimitSignal::Kind::Credits) {
        const bool pooled = signal.providerWide || sharesProviderLimits(provider);
        const qint64 until =
            std::max(now + m_policy.creditsCooldownMs, signal.exhaustedUntilMs(now).value_or(0));
        cool(pooled ? allModelsPool() : QString(), until, Kind::Credits,
             QStringLiteral("%1 payment required (credits exhausted): %2").arg(status).arg(text));
    } else if (status == 401 || status == 403) {
        // A refused key refuses every model; a 403 may be about this model (or this request) only.
        const QString reason = QStringLiteral("%1 provider refused the key (check providers[%2].apiKey): %3")
                                   .arg(status)
                                   .arg(provider, text);
        cool(status == 401 ? allModelsPool() : QString(), now + m_policy.misconfiguredCooldownMs,
             Kind::Misconfigured, reason);
    } else if (status >= 500 || status < 400) {
        effect.reason = QStringLiteral("%1: %2").arg(status).arg(text);
        if (signal.kind == LimitSignal::Kind::Capacity && signal.retryAfterMs)
            cool(QString(), now + qMax<qint64>(1000, *signal.retryAfterMs), Kind::RateLimited,
                 QStringLiteral("%1 provider at capacity: %2").arg(status).arg(text));
        else
            recordFailure(provider, model, effect.reason);
    } else {
        effect.reason = QStringLiteral("%1: %2").arg(status).arg(text);
    }
    return effect;
}

RateLimitTracker::AnswerEffect RateLimitTracker::rateLimited(const QString &provider, const QString &model,
                                                             const LimitSignal &signal,
                                                             const QString &message)
{
    using SK = LimitSignal::Kind;
    const qint64 now = m_clock.nowMs();
    qint64 until = signal.exhaustedUntilMs(now).value_or(0);
    if (until <= 0)
        until =
            now + (signal.kind == SK::Capacity ? m_policy.capacityCooldownMs : m_policy.cooldownDefaultMs);
    until = std::max(until, now + 1000);

    QString what = QStringLiteral("rate limited");
    if (signal.kind == SK::DailyCap)
        what = QStringLiteral("daily cap");
    else if (signal.kind == SK::TokenLimit)
        what = QStringLiteral("tokens limit");
    else if (signal.kind == SK::Capacity)
        what = QStringLiteral("provider at capacity");
    const QString reason = message.isEmpty() ? QStringLiteral("429 %1").arg(what)
                                             : QStringLiteral("429 %1: %2").arg(what, message);
    const QString pool = poolFor(provider, model, signal.providerWide, false);
    startCooldown(provider, pool.isEmpty() ? model : pool, !pool.isEmpty(), until, Kind::RateLimited, reason);
    if (signal.kind != SK::Capacity) // someone else's traffic teaches nothing about our ceiling
        learnCeiling(provider, model, signal, until);

    AnswerEffect effect;
    effect.reason = reason;
    effect.cooldownUntilMs =
        cooldown(provider, model).value_or(Cooldown{until, Kind::RateLimited, reason}).untilMs;
    return effect;
}

void RateLimitTracker::learnWindows(const QString &provider, const QString &model, const LimitSignal &signal,
                                    int status)
{
    const qint64 now = m_clock.nowMs();
    const bool success = status >= 200 && status < 300;
    bool requestsTold = false;
    bool tokensTold = false;
    // Scopes whose windows now say "nothing left": name, pool, until, requests empty, tokens empty.
    QList<std::tuple<QString, bool, qint64, bool, bool>> empty;
    for (const LimitWindow &w : signal.windows) {
        if (!w.limit && !w.remaining)
            continue; // "exceeded" with no numbers: the 429 cooldown covers it
        if (signal.kind == LimitSignal::Kind::ZeroAllowance && w.limit && *w.limit == 0)
            continue;
        const QString pool = poolFor(provider, model, w.providerWide, success);
        const QString name = pool.isEmpty() ? model : pool;
        Scope &s = scope(provider, name, !pool.isEmpty());
        KnownWindow known{w.unit, w.span, w.limit, w.remaining, w.resetAtMs.value_or(0), now};
        auto it = std::find_if(s.windows.begin(), s.windows.end(),
                               [&w](const KnownWindow &k) { return k.unit == w.unit && k.span == w.span; });
        if (it == s.windows.end()) {
            s.windows.append(known);
        } else if (it->resetAtMs > now && known.resetAtMs > 0) {
            // Answers of concurrent attempts arrive in any order. A window's reset only moves later as it is
            // used, so an earlier reset is an older answer; the same reset is the same period, in which
            // what is left only goes down.
            if (known.resetAtMs < it->resetAtMs - kSamePeriodMs)
                continue;
            if (known.resetAtMs <= it->resetAtMs + kSamePeriodMs && it->remaining && known.remaining) {
                known.remaining = std::min(*it->remaining, *known.remaining);
                known.resetAtMs = std::max(it->resetAtMs, known.resetAtMs);
            }
            *it = known;
        } else {
            *it = known;
        }
        s.lastUpdatedMs = now;
        (w.unit == Unit::Requests ? requestsTold : tokensTold) = true;
        if (status != 429 && w.remaining && *w.remaining <= 0) {
            const qint64 until = known.resetAtMs > now ? known.resetAtMs : now + m_policy.cooldownDefaultMs;
            auto e = std::find_if(empty.begin(), empty.end(), [&](const auto &x) {
                return std::get<0>(x) == name && std::get<1>(x) == !pool.isEmpty();
            });
            if (e == empty.end()) {
                empty.append({name, !pool.isEmpty(), until, false, false});
                e = empty.end() - 1;
            }
            std::get<2>(*e) = std::max(std::get<2>(*e), until);
            (w.unit == Unit::Requests ? std::get<3>(*e) : std::get<4>(*e)) = true;
        }
    }
    if (!requestsTold && !tokensTold)
        return;
    // Real numbers replace what 429s taught.
    const auto dropLearned = [&](Scope *s) {
        if (!s)
            return;
        s->learned.erase(std::remove_if(s->learned.begin(), s->learned.end(),
                                        [&](const Learned &l) {
                                            return l.unit == Unit::Requests ? requestsTold : tokensTold;
                                        }),
                         s->learned.end());
    };
    dropLearned(findScope(provider, model, false));
    dropLearned(findScope(provider, allModelsPool(), true));
    dropLearned(findScope(provider, freeModelsPool(), true));
    for (const auto &[name, pool, until, requests, tokens] : std::as_const(empty)) {
        const QString what = requests && tokens ? QStringLiteral("requests and tokens")
                             : requests         ? QStringLiteral("requests")
                                                : QStringLiteral("tokens");
        startCooldown(provider, name, pool, until, Kind::Quota,
                      QStringLiteral("proactive: remaining %1 = 0").arg(what));
    }
    emit stateChanged();
}

void RateLimitTracker::learnCeiling(const QString &provider, const QString &model, const LimitSignal &signal,
                                    qint64 untilMs)
{
    if (std::any_of(signal.windows.cbegin(), signal.windows.cend(),
                    [](const LimitWindow &w) { return w.limit || w.remaining; }))
        return; // the provider gave numbers: nothing to guess
    const bool pooled = sharesProviderLimits(provider);
    Scope *s = findScope(provider, pooled ? allModelsPool() : model, pooled);
    if (!s || !s->usage)
        return;
    const qint64 now = m_clock.nowMs();
    const auto p = m_providers.constFind(provider);
    const int inFlight = pooled ? p->inFlight : s->inFlight;
    const qint64 inFlightTokens = pooled ? p->inFlightTokens : s->inFlightTokens;
    Unit unit = Unit::Requests;
    Span span = Span::Unknown;
    for (const LimitWindow &w : signal.windows) {
        if (w.exceeded) {
            unit = w.unit;
            span = w.span;
        }
    }
    qint64 spanMs = spanMsOf(span);
    if (spanMs == 0) { // the shortest usual window that the wait fits in
        const qint64 wait = untilMs - now;
        spanMs = wait <= 61'000 ? 60'000 : wait <= 3'601'000 ? 3'600'000 : 86'400'000;
    }
    qint64 served = 0;
    const auto previous = std::find_if(s->learned.begin(), s->learned.end(), [&](const Learned &l) {
        return l.unit == unit && l.spanMs == spanMs && now < l.windowStartMs + l.spanMs;
    });
    if (previous != s->learned.end()) {
        served = previous->used - (unit == Unit::Requests ? inFlight : inFlightTokens);
    } else {
        s->usage->advance(now);
        const SlidingCounter &counter = s->usage->forSpan(spanMs);
        served = unit == Unit::Requests ? counter.requests() - inFlight : counter.tokens() - inFlightTokens;
    }
    if (served <= 0)
        return;
    // One ceiling per unit and span: a daily one learned later does not erase the minute's.
    s->learned.erase(std::remove_if(s->learned.begin(), s->learned.end(),
                                    [&](const Learned &l) { return l.unit == unit && l.spanMs == spanMs; }),
                     s->learned.end());
    s->learned.append(Learned{unit, spanMs, served, untilMs, 0});
    qCInfo(lcLimits).noquote() << label(provider, pooled ? allModelsPool() : model) << "learned a ceiling of"
                               << served << LimitWindow::unitName(unit) << "per" << spanMs / 1000 << "s";
    emit stateChanged();
}
