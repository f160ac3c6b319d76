#include "connectionguard.h"

#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcGuard, "chain.http")

namespace {
const char kGuardProperty[] = "chain_connection_guard";
}

ConnectionGuard::ConnectionGuard(QTcpSocket *socket, const Limits &limits)
    : QObject(socket), m_socket(socket), m_limits(limits)
{
    socket->setProperty(kGuardProperty, QVariant::fromValue(static_cast<QObject *>(this)));
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionGuard::onReadyRead);
    connect(socket, &QTcpSocket::bytesWritten, this, [this] { m_idle.start(); });
    m_idle.setSingleShot(true);
    m_idle.setInterval(m_limits.idleTimeoutMs);
    connect(&m_idle, &QTimer::timeout, this, &ConnectionGuard::onIdleTimeout);
    m_idle.start();
}

ConnectionGuard *ConnectionGuard::of(QTcpSocket *socket)
{
    if (!socket)
        return nullptr;
    return qobject_cast<ConnectionGuard *>(socket->property(kGuardProperty).value<QObject *>());
}

bool ConnectionGuard::closeAfterResponse(QTcpSocket *socket)
{
    const auto *guard = of(socket);
    return guard && guard->m_closeAfter;
}

void ConnectionGuard::responseFinished(QTcpSocket *socket)
{
    auto *guard = of(socket);
    if (!guard)
        return;
    guard->m_inFlight = qMax(0, guard->m_inFlight - 1);
    guard->m_idle.start();
    if (guard->m_closeAfter && guard->m_inFlight == 0)
        socket->disconnectFromHost();
}

void ConnectionGuard::onReadyRead()
{
    m_idle.start();
    if (m_state == State::Rejected) {
        m_socket->readAll(); // nothing more reaches QHttpServer
        return;
    }
    const QByteArray fresh = m_socket->peek(m_socket->bytesAvailable());
    consume(fresh.constData(), fresh.size());
}

void ConnectionGuard::consume(const char *data, qint64 size)
{
    qint64 pos = 0;
    while (pos < size && m_state != State::Rejected) {
        if (m_state == State::Body) {
            const qint64 take = qMin(m_bodyRemaining, size - pos);
            m_bodyRemaining -= take;
            pos += take;
            if (m_bodyRemaining == 0) {
                ++m_inFlight;
                m_state = State::Head;
            }
            continue;
        }
        // Head: take bytes up to the end of the header block.
        const char *start = data + pos;
        const qint64 avail = size - pos;
        const qint64 before = m_head.size();
        m_head.append(start, qMin<qint64>(avail, m_limits.maxHeaderBytes + 4 - before));
        qsizetype end = m_head.indexOf("\r\n\r\n");
        qsizetype termLen = 4;
        if (end < 0) {
            end = m_head.indexOf("\n\n");
            termLen = 2;
        }
        if (end < 0) {
            if (m_head.size() > m_limits.maxHeaderBytes)
                reject(431, "Request Header Fields Too Large", "Request headers are larger than the limit.",
                       "request_header_fields_too_large");
            return; // wait for more
        }
        const qint64 headLen = end + termLen;
        pos += headLen - before;
        m_head.truncate(end);
        if (!headComplete())
            return;
        m_head.clear();
    }
}

bool ConnectionGuard::headComplete()
{
    // Leading empty lines between requests are allowed by RFC 9112.
    while (m_head.startsWith("\r\n") || m_head.startsWith('\n'))
        m_head.remove(0, m_head.startsWith("\r\n") ? 2 : 1);
    if (m_head.size() > m_limits.maxHeaderBytes) {
        reject(431, "Request Header Fields Too Large", "Request headers are larger than the limit.",
               "request_header_fields_too_large");
        return false;
    }
    const QList<QByteArray> lines = m_head.split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1.")) {
        reject(400, "Bad Request", "Malformed HTTP request line.", "bad_request");
        return false;
    }
    if (lines.size() - 1 > m_limits.maxHeaderFields) {
        reject(431, "Request Header Fields Too Large", "Too many request header fields.",
               "request_header_fields_too_large");
        return false;
    }
    const bool http10 = requestLine.at(2) == "HTTP/1.0";
    qint64 contentLength = 0;
    bool expectContinue = false;
    bool keepAlive = !http10;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            reject(400, "Bad Request", "Malformed HTTP header line.", "bad_request");
            return false;
        }
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "content-length") {
            bool ok = false;
            contentLength = value.toLongLong(&ok);
            if (!ok || contentLength < 0) {
                reject(400, "Bad Request", "Invalid Content-Length header.", "bad_request");
                return false;
            }
        } else if (name == "transfer-encoding") {
            reject(411, "Length Required", "Chunked request bodies are not accepted; send a Content-Length.",
                   "length_required");
            return false;
        } else if (name == "expect") {
            expectContinue = value.toLower() == "100-continue";
        } else if (name == "connection") {
            const QByteArray v = value.toLower();
            if (v.contains("close"))
                keepAlive = false;
            else if (v.contains("keep-alive"))
                keepAlive = true;
        }
    }
    if (contentLength > m_limits.maxBodyBytes) {
        reject(413, "Payload Too Large",
               "Request body of " + QByteArray::number(contentLength) +
                   " bytes is larger than the limit of " + QByteArray::number(m_limits.maxBodyBytes) +
                   " bytes (settings.maxRequestBytes).",
               "request_too_large");
        return false;
    }
    if (!keepAlive)
        m_closeAfter = true;
    if (expectContinue && contentLength > 0)
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    m_bodyRemaining = contentLength;
    if (contentLength == 0)
        ++m_inFlight;
    else
        m_state = State::Body;
    return true;
}

void ConnectionGuard::reject(int status, const QByteArray &reason, const QByteArray &message,
                             const QByteArray &code)
{
    qCInfo(lcGuard) << "refusing request:" << status << message;
    m_state = State::Rejected;
    m_socket->readAll();
    const QByteArray body = R"({"error":{"message":")" + message +
                            R"(","type":"invalid_request_error","param":null,"code":")" + code + R"("}})";
    m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    QByteArray::number(body.size()) + "\r\n\r\n" + body);
    m_socket->disconnectFromHost();
}

void ConnectionGuard::onIdleTimeout()
{
    if (m_inFlight > 0 || m_socket->bytesToWrite() > 0) {
        m_idle.start();
        return;
    }
    qCDebug(lcGuard) << "closing idle connection";
    m_socket->disconnectFromHost();
}
