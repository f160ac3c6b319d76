#pragma once

#include "config.h"
#include "ratelimittracker.h"
#include "requestrecord.h"
#include "upstreamcall.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include <optional>

class UpstreamPool;

// One try of one chain entry for one request: the upstream call, and the entry's reservation in the limiter.
// Everything the limiter learns from an attempt goes through here, at two fixed points: the answer (its
// status and headers, or the error that took their place) at most once, and the end exactly once, which says
// how the attempt went for the entry and gives the reservation back with what was really used. An attempt
// destroyed without an end (its request went away under it) keeps its reservation as it was.
class Attempt : public QObject
{
    Q_OBJECT

public:
    // What the end of an attempt tells the limiter beyond its answer.
    enum class Effect {
        None,      // nothing more (refused for a reason the answer gave, or abandoned)
        Success,   // served: a failure streak is over
        Transient, // a 5xx-like failure: timeouts, drops, broken streams escalate to a cooldown
        MidStream, // a stream that failed after the client began reading it (the midStream* settings)
    };

    // An error event inside a stream that carries an HTTP-like code (OpenRouter's 429 chunk).
    struct InBandError
    {
        int status = 0;
        QByteArray body;
        QString message;
    };

    Attempt(RateLimitTracker &tracker, UpstreamPool &pool, ProviderConfig provider, ChainEntry entry,
            int entryIndex, quint64 ticket, UpstreamCall::Request request, QObject *parent = nullptr);
    ~Attempt() override;

    void start();
    UpstreamCall &call() { return *m_call; }
    const UpstreamCall &call() const { return *m_call; }
    const ProviderConfig &provider() const { return m_provider; }
    const ChainEntry &entry() const { return m_entry; }
    int entryIndex() const { return m_entryIndex; }
    qint64 elapsedMs() const { return m_timer.elapsed(); }
    // Stops the upstream call at once (silently: no finished() after it).
    void abortCall();

    // The answer (status and headers, the body of an error, or an in-band error before the first token) goes
    // to the limiter; only the first call of an attempt does anything.
    RateLimitTracker::AnswerEffect observe(int status, const QByteArray &body = {},
                                           const QString &message = {});
    // The end: `effect` for the entry, the reservation settled with `tokensUsed` (real usage, an estimate, or
    // 0 for a request that used nothing). `inBand`: an error event after the first token whose code the
    // limiter should hear (a 429 mid-stream). Only the first call does anything.
    void end(Effect effect, const QString &reason, qint64 tokensUsed,
             const std::optional<InBandError> &inBand = std::nullopt);
    bool hasEnded() const { return m_ended; }

    // This attempt as the request log keeps it.
    AttemptRecord record(AttemptRecord::Outcome outcome, int status, const QString &reason) const;

private:
    RateLimitTracker::AnswerEffect feed(int status, const QByteArray &body, const QString &message);

    RateLimitTracker &m_tracker;
    QPointer<RateLimitTracker> m_trackerAlive; // at shutdown the engine may go first
    ProviderConfig m_provider;
    ChainEntry m_entry;
    int m_entryIndex;
    quint64 m_ticket;
    UpstreamCall *m_call;
    QElapsedTimer m_timer;
    bool m_observed = false;
    bool m_ended = false;
};
