#pragma once

#include "requestscanner.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTimer>

class QTcpSocket;

// Limits QHttpServer 6.4 does not have. Watches one client connection's bytes before QHttpServer parses them
// (its readyRead slot is connected first and only peeks; RequestScanner does the reading), and answers by
// itself when a request breaks a limit: header block too large or too many fields (431), body over the limit
// (413), chunked upload (411), malformed head (400), a request that trickles in slower than the read timeout
// allows (408, the slowloris defence). It answers `Expect: 100-continue`, honours `Connection: close` and
// HTTP/1.0, closes idle connections, and keeps answers in order: a request pipelined behind one still being
// answered is refused (the connection closes after the current answer). ResponseWriter tells it when a
// response is complete and asks it for the per-request headers (CORS) set by the API server.
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
        // From the first byte of a request to the last byte of its body.
        int requestReadTimeoutMs = 60'000;
    };
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    ConnectionGuard(QTcpSocket *socket, const Limits &limits);

    static ConnectionGuard *of(QTcpSocket *socket);
    static bool closeAfterResponse(QTcpSocket *socket);
    static void responseFinished(QTcpSocket *socket);
    // Called by the API server for each request QHttpServer hands it. False when an earlier request on the
    // same connection is still being answered: this one must not be answered now (it would interleave), so it
    // is dropped and the connection closes once the earlier answer is complete.
    static bool beginResponse(QTcpSocket *socket);
    // Extra headers every answer to the current request carries (CORS); set by the API server.
    static void setResponseHeaders(QTcpSocket *socket, const Headers &headers);
    static Headers responseHeaders(QTcpSocket *socket);
    // Connects the slot that runs after QHttpServer's own readyRead slot (GuardedTcpServer calls it once
    // QHttpServer has connected), so the guard knows which unread bytes it has already scanned.
    void followServerReads();

private:
    void onReadyRead();
    void onIdleTimeout();
    void onReadTimeout();
    void reject(int status, const QByteArray &reason, const QByteArray &message, const QByteArray &code,
                const QByteArray &path);

    QTcpSocket *m_socket;
    Limits m_limits;
    RequestScanner m_scanner;
    qint64 m_scannedUnread = 0; // bytes at the front of the socket buffer already scanned
    int m_inFlight = 0;         // requests fully received and not yet answered (or refused)
    int m_answering = 0;        // requests handed to the API server whose answer is not complete
    bool m_closeAfter = false;  // close once nothing is in flight (a refused or rejected request)
    QList<bool> m_requestClose; // per request received and not yet answered: close after its answer
    Headers m_responseHeaders;
    QTimer m_idle;
    QTimer m_readTimer;
};
