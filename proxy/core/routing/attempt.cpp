#include "attempt.h"

#include "limithints.h"

Attempt::Attempt(RateLimitTracker &tracker, UpstreamPool &pool, ProviderConfig provider, ChainEntry entry,
                 int entryIndex, quint64 ticket, UpstreamCall::Request request, QObject *parent)
    : QObject(parent)
    , m_tracker(tracker)
    , m_trackerAlive(&tracker)
    , m_provider(std::move(provider))
    , m_entry(std::move(entry))
    , m_entryIndex(entryIndex)
    , m_ticket(ticket)
    , m_call(new UpstreamCall(pool, std::move(request), this))
{
    m_timer.start();
}

Attempt::~Attempt()
{
    if (!m_ended && m_ticket != 0 && m_trackerAlive)
        m_tracker.release(m_ticket, -1);
}

void Attempt::start()
{
    m_timer.start();
    m_call->start();
}

void Attempt::abortCall()
{
    m_call->abort();
}

RateLimitTracker::AnswerEffect Attempt::observe(int status, const QByteArray &body, const QString &message)
{
    if (m_observed || m_ended)
        return {};
    m_observed = true;
    return feed(status, body, message);
}

void Attempt::end(Effect effect, const QString &reason, qint64 tokensUsed,
                  const std::optional<InBandError> &inBand)
{
    if (m_ended)
        return;
    m_ended = true;
    if (!m_trackerAlive)
        return;
    if (inBand)
        feed(inBand->status, inBand->body, inBand->message);
    switch (effect) {
    case Effect::None:
        break;
    case Effect::Success:
        m_tracker.recordSuccess(m_entry.provider, m_entry.model);
        break;
    case Effect::Transient:
        m_tracker.recordFailure(m_entry.provider, m_entry.model, reason);
        break;
    case Effect::MidStream:
        m_tracker.recordMidStreamFailure(m_entry.provider, m_entry.model, reason);
        break;
    }
    m_tracker.release(m_ticket, tokensUsed);
}

RateLimitTracker::AnswerEffect Attempt::feed(int status, const QByteArray &body, const QString &message)
{
    if (!m_trackerAlive)
        return {};
    const LimitSignal signal =
        LimitParsing::parse(m_provider.type, status, m_call->headers(), body, m_tracker.clock().nowMs());
    return m_tracker.recordAnswer(m_entry.provider, m_entry.model, status, signal, message, m_ticket);
}

AttemptRecord Attempt::record(AttemptRecord::Outcome outcome, int status, const QString &reason) const
{
    AttemptRecord a;
    a.provider = m_entry.provider;
    a.model = m_entry.model;
    a.outcome = outcome;
    a.status = status;
    a.latencyMs = m_timer.elapsed();
    a.reason = reason;
    return a;
}
