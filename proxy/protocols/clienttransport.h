#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>

// One client connection as a protocol sink writes to it: a whole response, or a stream of bytes sent as
// they come. The HTTP layer implements it (ResponseWriter, over Qt's responder); it reports a client that
// went away and a send buffer that drained, so the engine can pause reading upstream while a client is slow.
class ClientTransport : public QObject
{
    Q_OBJECT

public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;
    using QObject::QObject;

    virtual bool isConnected() const = 0;
    // Bytes queued for the client and not yet sent.
    virtual qint64 pendingBytes() const = 0;

    virtual void sendWhole(int status, const QByteArray &body, const Headers &headers = {},
                           const QByteArray &contentType = QByteArrayLiteral("application/json")) = 0;
    virtual void beginStream(int status, const Headers &headers,
                             const QByteArray &contentType = QByteArrayLiteral("text/event-stream")) = 0;
    virtual void writeChunk(const QByteArray &data) = 0;
    virtual void endStream() = 0;

signals:
    void clientGone();
    void drained();
};
