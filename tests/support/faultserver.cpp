#include "faultserver.h"

#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>

#include <utility>

namespace {
constexpr qint64 kPiece = 64 * 1024;      // bytes produced per write
constexpr qint64 kHighWater = 256 * 1024; // stop producing while this much is unsent

QByteArray chunk(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

QByteArray streamHead()
{
    return QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n");
}

QByteArray contentEvent(const QByteArray &text)
{
    return R"(data: {"id":"f","object":"chat.completion.chunk","model":"m","choices":[{"index":0,)"
           R"("delta":{"content":")" +
           text + R"("},"finish_reason":null}]})" + "\n\n";
}
} // namespace

struct FaultServer::Connection
{
    QPointer<QTcpSocket> socket;
    QByteArray head;
    bool started = false;
    bool stream = false;
    qint64 produced = 0; // payload bytes of the current fault
};

FaultServer::FaultServer(Fault fault, QObject *parent) : QObject(parent), m_fault(fault) {}

FaultServer::~FaultServer()
{
    const QList<Connection *> open = std::exchange(m_open, {});
    for (Connection *c : open) {
        if (c->socket) {
            disconnect(c->socket, nullptr, this, nullptr); // no disconnected() slot for a deleted entry
            c->socket->abort();
            delete c->socket;
        }
        delete c;
    }
}

bool FaultServer::listen()
{
    m_server = new QTcpServer(this);
    connect(m_server, &QTcpServer::newConnection, this, &FaultServer::onNewConnection);
    return m_server->listen(QHostAddress::LocalHost, 0);
}

quint16 FaultServer::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

QString FaultServer::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1/v1").arg(port());
}

int FaultServer::openConnections() const
{
    int n = 0;
    for (const Connection *c : m_open) {
        if (c->socket && c->socket->state() == QAbstractSocket::ConnectedState)
            ++n;
    }
    return n;
}

void FaultServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        ++m_connections;
        auto *c = new Connection;
        c->socket = socket;
        m_open.append(c);
        connect(socket, &QTcpSocket::readyRead, this, [this, c] { onReadyRead(c); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this, c] { pump(c); });
        connect(socket, &QTcpSocket::disconnected, this, [this, c] {
            m_open.removeOne(c);
            if (c->socket)
                c->socket->deleteLater();
            delete c;
        });
    }
}

void FaultServer::onReadyRead(Connection *c)
{
    if (!c->socket)
        return;
    const QByteArray bytes = c->socket->readAll();
    if (c->started)
        return; // the body, or a client that keeps talking: ignored
    c->head += bytes;
    const qsizetype end = c->head.indexOf("\r\n\r\n");
    qint64 length = 0;
    for (const QByteArray &line : c->head.left(end).split('\n')) {
        if (line.toLower().startsWith("content-length:"))
            length = line.mid(15).trimmed().toLongLong();
    }
    // Not HTTP at all (a TLS ClientHello starts with 0x16): answer at once, whatever arrives.
    const bool notHttp = !c->head.isEmpty() && !(c->head.at(0) >= 'A' && c->head.at(0) <= 'Z');
    if (notHttp || c->head.size() > 1024 * 1024 || (end >= 0 && c->head.size() >= end + 4 + length)) {
        c->stream = c->head.contains("\"stream\":true") || c->head.contains("\"stream\": true");
        start(c);
    }
}

void FaultServer::start(Connection *c)
{
    ++m_requests;
    c->started = true;
    QTcpSocket *s = c->socket;
    switch (m_fault) {
    case Fault::Garbage: {
        QByteArray junk(4096, Qt::Uninitialized);
        QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(junk.data()), junk.size() / 4);
        m_bytesSent += s->write(junk);
        s->disconnectFromHost();
        return;
    }
    case Fault::InvalidUtf8: {
        QByteArray body = streamHead();
        body += chunk("data: \xff\xfe\xc3\x28 not json \xa0\xa1\n\n");
        body += chunk(R"(data: {"choices":[{"index":0,"delta":{"content":")"
                      "\xc3\x28\xff"
                      R"("}}]})"
                      "\n\n");
        body += chunk("data: [DONE]\n\n") + "0\r\n\r\n";
        m_bytesSent += s->write(body);
        s->disconnectFromHost();
        return;
    }
    case Fault::HugeLine:
        if (c->stream)
            m_bytesSent += s->write(streamHead());
        else
            m_bytesSent += s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                    QByteArray::number(m_hugeBytes) + "\r\n\r\n");
        break;
    case Fault::EndlessEmpty:
    case Fault::EndlessContent:
        m_bytesSent += s->write(streamHead());
        break;
    case Fault::CloseMidChunk:
        m_bytesSent +=
            s->write(streamHead() + "1f4\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"role\":");
        s->disconnectFromHost();
        return;
    case Fault::CloseAfterContent:
        m_bytesSent += s->write(streamHead() + chunk(contentEvent("Hello")) + chunk(contentEvent(" there")) +
                                "1f4\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut");
        s->disconnectFromHost();
        return;
    }
    pump(c);
}

void FaultServer::pump(Connection *c)
{
    QTcpSocket *s = c->socket;
    if (!s || !c->started || s->state() != QAbstractSocket::ConnectedState)
        return;
    while (s->bytesToWrite() < kHighWater) {
        QByteArray piece;
        switch (m_fault) {
        case Fault::HugeLine: {
            const qint64 n = qMin(kPiece, m_hugeBytes - c->produced);
            if (n <= 0) {
                if (c->stream)
                    m_bytesSent += s->write("\n\n");
                s->disconnectFromHost();
                return;
            }
            piece = QByteArray(n, 'a');
            if (c->produced == 0 && !c->stream)
                piece.replace(0, qMin<qint64>(n, 12), QByteArray(R"({"choices":")").left(n));
            c->produced += n;
            if (c->stream)
                piece = chunk(piece);
            break;
        }
        case Fault::EndlessEmpty:
            for (int i = 0; i < 256; ++i)
                piece += R"(data: {"id":"f","choices":[{"index":0,"delta":{}}]})"
                         "\n\n";
            piece = chunk(piece);
            break;
        case Fault::EndlessContent:
            for (int i = 0; i < 256; ++i)
                piece += contentEvent("word ");
            piece = chunk(piece);
            break;
        default:
            return;
        }
        m_bytesSent += s->write(piece);
    }
}
