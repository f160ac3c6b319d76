#pragma once

#include "apierror.h"
#include "chatformat.h"
#include "requestrecord.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <optional>

// Who answers a request: the entry that served it (or, for a failure, the last one tried) and how many
// entries were visited, skipped ones included. The HTTP adapters turn it into X-429chain-Provider and
// X-429chain-Attempts.
struct ServedBy
{
    QString provider; // empty when no entry was tried
    QString model;
    qsizetype attempts = 0;
};

// One event of a committed stream, in the engine's format (an OpenAI chat chunk, or a keep-alive comment).
// raw() is the event as the provider framed it (invalid UTF-8 repaired, settings.normalizeResponses applied):
// what an OpenAI chat client reads, relayed untouched. delta() is what it means, parsed on first use, for the
// sinks that translate or show it.
class StreamPiece
{
public:
    enum class Kind { Chunk, KeepAlive };

    StreamPiece(Kind kind, QByteArray raw, QByteArray data, bool usageOnly = false)
        : m_kind(kind), m_raw(std::move(raw)), m_data(std::move(data)), m_usageOnly(usageOnly)
    {
    }

    Kind kind() const { return m_kind; }
    const QByteArray &raw() const { return m_raw; }
    const QByteArray &data() const { return m_data; } // the chunk's JSON (empty for a keep-alive)
    // The chunk that only carries usage (`choices: []`): an OpenAI client gets it only if it asked.
    bool usageOnly() const { return m_usageOnly; }
    const ChatDelta &delta() const
    {
        if (!m_delta)
            m_delta = ChatDelta::parse(m_data);
        return *m_delta;
    }

private:
    Kind m_kind;
    QByteArray m_raw;
    QByteArray m_data;
    bool m_usageOnly;
    mutable std::optional<ChatDelta> m_delta;
};

// A whole answer in the engine's format: a `chat.completion` (or embeddings) JSON body, status 200.
struct WholeAnswer
{
    ServedBy servedBy;
    QByteArray body;
};

// A request the engine could not serve (before a stream began), or a stream that failed after it began.
struct EngineFailure
{
    ApiError error;
    ServedBy servedBy;
    // When every entry refused the request itself (a 4xx), the first provider's own error body and status,
    // so a client of the providers' protocol gets it as sent; empty otherwise.
    QByteArray upstreamBody;
};

// Where the engine delivers one request's answer; a client protocol adapter implements it over a client
// connection (chain_protocols), the desktop's test prompt over its window. The engine calls, in order, one
// of:
//   whole(answer)                                   a whole answer
//   fail(failure)                                   no answer (every entry unusable, paused, queue, shutdown)
//   begin(servedBy), chunk()…, usage()?, done()     a stream that ended well
//   begin(servedBy), chunk()…, fail(failure)        a stream that failed after it began (no ending of
//   success)
// then requestFinished(record) once. The sink reports a client that left and a send buffer that drained
// (backpressure: the engine stops reading upstream while pendingBytes() is high).
class EngineSink : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    virtual bool isConnected() const = 0;
    virtual qint64 pendingBytes() const = 0;

    virtual void whole(const WholeAnswer &answer) = 0;
    virtual void begin(const ServedBy &servedBy) = 0;
    virtual void chunk(const StreamPiece &piece) = 0;
    // The stream's token counts, once they are known (the provider's usage, or an estimate), before done().
    virtual void usage(const TokenUsage &usage) { Q_UNUSED(usage); }
    virtual void done() = 0;
    virtual void fail(const EngineFailure &failure) = 0;
    // The request is over and this is its record, as ProxyService::requestFinished() reports it.
    virtual void requestFinished(const RequestRecord &record) { Q_UNUSED(record); }

signals:
    void clientGone();
    void drained();
};
