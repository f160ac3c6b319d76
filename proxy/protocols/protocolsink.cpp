#include "protocolsink.h"

ProtocolSink::ProtocolSink(ClientTransport *transport, QObject *parent)
    : EngineSink(parent), m_transport(transport)
{
    transport->setParent(this);
    connect(transport, &ClientTransport::clientGone, this, &EngineSink::clientGone);
    connect(transport, &ClientTransport::drained, this, &EngineSink::drained);
}

bool ProtocolSink::isConnected() const
{
    return m_transport && m_transport->isConnected();
}

qint64 ProtocolSink::pendingBytes() const
{
    return m_transport ? m_transport->pendingBytes() : 0;
}

ProtocolSink::Headers ProtocolSink::servedHeaders(const ServedBy &servedBy)
{
    Headers headers;
    if (!servedBy.provider.isEmpty()) {
        headers.append({QByteArrayLiteral("X-429chain-Provider"),
                        (servedBy.provider + QLatin1Char('/') + servedBy.model).toUtf8()});
    }
    headers.append({QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(servedBy.attempts)});
    return headers;
}

ProtocolSink::Headers ProtocolSink::failureHeaders(const EngineFailure &failure)
{
    Headers headers;
    if (failure.servedBy.attempts >= 0)
        headers = servedHeaders(failure.servedBy);
    if (failure.error.retryAfterSeconds > 0)
        headers.append(
            {QByteArrayLiteral("Retry-After"), QByteArray::number(failure.error.retryAfterSeconds)});
    return headers;
}
