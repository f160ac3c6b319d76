#pragma once

#include "clienttransport.h"
#include "enginesink.h"

#include <QPointer>

// The part every protocol's sink shares: it owns the client's transport, passes its signals and state on to
// the engine, and makes the headers every answer carries (who served it, how many entries were visited, when
// to retry).
class ProtocolSink : public EngineSink
{
    Q_OBJECT

public:
    using Headers = ClientTransport::Headers;

    // Takes ownership of `transport`.
    explicit ProtocolSink(ClientTransport *transport, QObject *parent = nullptr);

    bool isConnected() const override;
    qint64 pendingBytes() const override;

    // X-429chain-Provider (when an entry is named) and X-429chain-Attempts.
    static Headers servedHeaders(const ServedBy &servedBy);
    // servedHeaders plus Retry-After when the error says when to come back. A failure with attempts < 0 (the
    // request never reached the chain: paused) carries no served headers.
    static Headers failureHeaders(const EngineFailure &failure);

protected:
    ClientTransport *transport() const { return m_transport; }

private:
    QPointer<ClientTransport> m_transport;
};
