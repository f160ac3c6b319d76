#pragma once

#include "clienttransport.h"

#include <QByteArray>
#include <QHttpServerResponder>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QTcpSocket>

#include <optional>

// Answers one HTTP request through Qt 6.4's QHttpServerResponder: a whole response, or a chunked stream
// written piece by piece: the transport a protocol sink answers a client through (ClientTransport). The only
// class that knows how this Qt version frames chunked bodies (6.8 has its own API), and the one that watches
// the client socket: it reports a client that went away and a send buffer that drained, so a relay can pause
// reading upstream while the client is slow. Used by the API routes and the simulated providers.
class ResponseWriter : public ClientTransport
{
    Q_OBJECT

public:
    explicit ResponseWriter(QHttpServerResponder &&responder, QObject *parent = nullptr);
    ~ResponseWriter() override;

    bool isConnected() const override;
    bool hasStarted() const { return m_state != State::Idle; }
    bool isDone() const { return m_state == State::Done; }
    // Bytes queued on the client socket and not yet sent.
    qint64 pendingBytes() const override;

    void sendWhole(int status, const QByteArray &body, const Headers &headers = {},
                   const QByteArray &contentType = QByteArrayLiteral("application/json")) override;
    void beginStream(int status, const Headers &headers,
                     const QByteArray &contentType = QByteArrayLiteral("text/event-stream")) override;
    void writeChunk(const QByteArray &data) override;
    void endStream() override;
    // Closes the connection at once, without ending the body: what a broken upstream does.
    void abortConnection();

    // QHttpServerResponder only knows the codes of its enum; anything else is mapped to its class's generic
    // code.
    static int safeStatus(int status);

    // Low-water mark under which `drained` is emitted after a write backlog.
    static constexpr qint64 kDrainedBytes = 64 * 1024;

private:
    enum class State { Idle, Streaming, Done };

    void writeHead(int status, const Headers &headers, const QByteArray &contentType);
    void finish();
    void onBytesWritten();

    QHttpServerResponder m_responder;
    QPointer<QTcpSocket> m_socket;
    State m_state = State::Idle;
    bool m_waitingForDrain = false;
};
