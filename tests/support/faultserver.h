#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

class QTcpServer;
class QTcpSocket;

// A raw TCP "provider" on loopback that misbehaves below the level SimulatedProvider can: it reads each
// request head and answers with bytes no real server should send. Everything it writes is produced on
// demand with backpressure (it never holds more than a few hundred KiB), so a 100 MB line costs the test
// nothing. Used by the upstream-fault tests and by the soak driver.
class FaultServer : public QObject
{
    Q_OBJECT

public:
    enum class Fault {
        Garbage,          // random binary bytes instead of HTTP, then close
        InvalidUtf8,      // a 200 event stream whose events are invalid UTF-8, not JSON
        HugeLine,         // 200, then `hugeBytes` without a newline (stream) or as a JSON body (non-stream)
        EndlessEmpty,     // a 200 event stream of content-free chunks that never ends
        EndlessContent,   // a 200 event stream of content chunks that never ends
        CloseMidChunk,    // a 200 chunked stream cut inside a chunk, before any content
        CloseAfterContent // two content chunks, then cut inside the third
    };

    explicit FaultServer(Fault fault = Fault::Garbage, QObject *parent = nullptr);
    ~FaultServer() override;

    bool listen(); // 127.0.0.1, a free port
    quint16 port() const;
    QString baseUrl() const; // "http://127.0.0.1:<port>/v1"
    void setFault(Fault fault) { m_fault = fault; }
    void setHugeBytes(qint64 bytes) { m_hugeBytes = bytes; }

    int connections() const { return m_connections; }
    int requests() const { return m_requests; }
    int openConnections() const; // connections the client has not closed yet
    qint64 bytesSent() const { return m_bytesSent; }

private:
    struct Connection;
    void onNewConnection();
    void onReadyRead(Connection *c);
    void start(Connection *c);
    void pump(Connection *c);

    Fault m_fault;
    qint64 m_hugeBytes = 100LL * 1024 * 1024;
    QTcpServer *m_server = nullptr;
    QList<Connection *> m_open;
    int m_connections = 0;
    int m_requests = 0;
    qint64 m_bytesSent = 0;
};
