#pragma once

#include "requestrecord.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>

// Where a chat answer goes: the HTTP layer implements it over a client connection, tests can implement it
// directly. The router writes a whole answer, or begins a stream and writes SSE bytes as they come; the sink
// reports a client that left and a send buffer that drained (backpressure).
class ChatSink : public QObject
{
    Q_OBJECT

public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;
    using QObject::QObject;

    virtual bool isConnected() const = 0;
    virtual qint64 pendingBytes() const = 0;
    virtual void sendJson(int status, const QByteArray &body, const Headers &headers) = 0;
    virtual void beginEventStream(const Headers &headers) = 0;
    virtual void writeEvents(const QByteArray &bytes) = 0;
    virtual void endEventStream() = 0;
    // The request is over and this is its record, as requestFinished() will report it (called once, after the
    // last write). For sinks that show the outcome themselves (the GUI's test prompt); the default ignores
    // it.
    virtual void requestFinished(const RequestRecord &record) { Q_UNUSED(record); }

signals:
    void clientGone();
    void drained();
};
