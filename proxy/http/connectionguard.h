#pragma once

#include <QByteArray>
#include <QObject>
#include <QTimer>

class QTcpSocket;

// Limits QHttpServer 6.4 does not have. Watches one client connection's bytes before QHttpServer parses them
// (its readyRead slot is connected first and only peeks), and answers by itself when a request breaks a
// limit: header block too large or too many fields (431), body over the limit (413), chunked upload (411),
// malformed head (400). It answers `Expect: 100-continue`, honours `Connection: close` and HTTP/1.0, and
// closes idle connections. ResponseWriter tells it when a response is complete.
class ConnectionGuard : public QObject
{
    Q_OBJECT

public:
    struct Limits
    {
        qint64 maxBodyBytes = 10 * 1024 * 1024;
        qint64 maxHeaderBytes = 64 * 1024;
        int maxHeaderFields = 100;
        int idleTimeoutMs = 120'000;
    };

    ConnectionGuard(QTcpSocket *socket, const Limits &limits);

    static ConnectionGuard *of(QTcpSocket *socket);
    static bool closeAfterResponse(QTcpSocket *socket);
    static void responseFinished(QTcpSocket *socket);

private:
    enum class State { Head, Body, Rejected };

    void onReadyRead();
    void onIdleTimeout();
    void consume(const char *data, qint64 size);
    bool headComplete();
    void reject(int status, const QByteArray &reason, const QByteArray &message, const QByteArray &code);

    QTcpSocket *m_socket;
    Limits m_limits;
    State m_state = State::Head;
    QByteArray m_head;
    qint64 m_bodyRemaining = 0;
    int m_inFlight = 0;
    bool m_closeAfter = false;
    QTimer m_idle;
};
