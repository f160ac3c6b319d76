#include "connectionguard.h"

#include "errorformats.h"

#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcGuard, "chain.http")

namespace {
const char kGuardProperty[] = "chain_connection_guard";

RequestScanner::Limits scannerLimits(const ConnectionGuard::Limits &limits)
{
    RequestScanner::Limits out;
    out.maxBodyBytes = limits.maxBodyBytes;
    out.maxHeaderBytes = limits.maxHeaderBytes;
    out.maxHeaderFields = limits.maxHeaderFields;
    return out;
}
} // namespace

ConnectionGuard::ConnectionGuard(QTcpSocket *socket, const Limits &limits)
    : QObject(socket), m_socket(socket), m_limits(limits), m_scanner(scannerLimits(limits))
{
    socket->setProperty(kGuardProperty, QVariant::fromValue(static_cast<QObject *>(this)));
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionGuard::onReadyRead);
    connect(socket, &QTcpSocket::bytesWritten, this, [this] { m_idle.start(); });
    m_idle.setSingleShot(true);
    m_idle.setInterval(m_limits.idleTimeoutMs);
    connect(&m_idle, &QTimer::timeout, this, &ConnectionGuard::onIdleTimeout);
    m_idle.start();
    m_readTimer.setSingleShot(true);
    m_readTimer.setInterval(m_limits.requestReadTimeoutMs);
    connect(&m_readTimer, &QTimer::timeout, this, &ConnectionGuard::onReadTimeout);
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
    return guard && (guard->m_closeAfter || guard->m_requestClose.value(0, false));
}

void ConnectionGuard::responseFinished(QTcpSocket *socket)
{
    auto *guard = of(socket);
    if (!guard)
        return;
    guard->m_inFlight = qMax(0, guard->m_inFlight - 1);
    guard->m_answering = qMax(0, guard->m_answering - 1);
    guard->m_idle.start();
    // The request just answered asked to close (Connection: close, HTTP/1.0): whatever follows is dropped.
    const bool closeNow = !guard->m_requestClose.isEmpty() && guard->m_requestClose.takeFirst();
    if (closeNow || (guard->m_closeAfter && guard->m_inFlight == 0))
        socket->disconnectFromHost();
}

bool ConnectionGuard::beginResponse(QTcpSocket *socket)
{
    auto *guard = of(socket);
    if (!guard)
        return true;
    if (guard->m_answering == 0) {
        ++guard->m_answering;
        return true;
    }
    qCInfo(lcGuard) << "refusing a pipelined request while an earlier answer is still being sent";
    guard->m_inFlight = qMax(0, guard->m_inFlight - 1);
    if (guard->m_requestClose.size() > 1)
        guard->m_requestClose.removeAt(1); // requests arrive in order: this one follows the one answering
    guard->m_closeAfter = true;
    return false;
}

void ConnectionGuard::setResponseHeaders(QTcpSocket *socket, const Headers &headers)
{
    if (auto *guard = of(socket))
        guard->m_responseHeaders = headers;
}

ConnectionGuard::Headers ConnectionGuard::responseHeaders(QTcpSocket *socket)
{
    const auto *guard = of(socket);
    return guard ? guard->m_responseHeaders : Headers();
}

void ConnectionGuard::followServerReads()
{
    connect(m_socket, &QTcpSocket::readyRead, this, [this] { m_scannedUnread = m_socket->bytesAvailable(); });
}

void ConnectionGuard::onReadyRead()
{
    m_idle.start();
    if (m_scanner.rejected()) {
        m_socket->readAll(); // nothing more reaches QHttpServer
        return;
    }
    // Bytes QHttpServer left unread after its last pass were scanned then: only what follows them is new.
    // (QHttpServer 6.4 reads one request per pass and re-emits readyRead for a pipelined rest.)
    const qint64 available = m_socket->bytesAvailable();
    const qint64 seen = qBound<qint64>(0, m_scannedUnread, available);
    const QByteArray fresh = m_socket->peek(available).mid(seen);
    m_scannedUnread = available;
    const bool wasMidRequest = m_scanner.midRequest();
    for (const auto &event : m_scanner.feed(fresh.constData(), fresh.size())) {
        switch (event.kind) {
        case RequestScanner::Event::Kind::HeadComplete:
            m_requestClose.append(!event.keepAlive);
            if (event.expectContinue && event.contentLength > 0)
                m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            break;
        case RequestScanner::Event::Kind::RequestComplete:
            ++m_inFlight;
            m_readTimer.stop();
            break;
        case RequestScanner::Event::Kind::Rejected:
            reject(event.status, event.reason, event.message, event.code, event.path);
            return;
        }
    }
    // The read timer runs from the first byte of a request until its last; trickling bytes do not reset it.
    if (!m_scanner.midRequest())
        m_readTimer.stop();
    else if (!wasMidRequest || !m_readTimer.isActive())
        m_readTimer.start();
}

void ConnectionGuard::reject(int status, const QByteArray &reason, const QByteArray &message,
                             const QByteArray &code, const QByteArray &path)
{
    qCInfo(lcGuard) << "refusing request:" << status << message;
    m_readTimer.stop();
    m_socket->readAll();
    if (m_answering > 0) {
        // An answer is on its way: an error written now would land inside it. Close after it instead.
        m_inFlight = m_answering;
        m_closeAfter = true;
        return;
    }
    // In the shape of the protocol the path belongs to (Anthropic's under /v1/messages, else OpenAI's).
    const ApiError error = ApiError::make(
        status, status == 413 || status == 431 ? ApiError::Kind::TooLarge : ApiError::Kind::InvalidRequest,
        QString::fromLatin1(code), QString::fromLatin1(message));
    const QByteArray body = ErrorFormats::json(QString::fromLatin1(path), error);
    m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    QByteArray::number(body.size()) + "\r\n\r\n" + body);
    m_socket->disconnectFromHost();
}

void ConnectionGuard::onReadTimeout()
{
    if (m_scanner.rejected() || !m_scanner.midRequest())
        return;
    m_scanner.abandon(); // nothing more reaches QHttpServer
    reject(408, "Request Timeout",
           "The request was not received within " + QByteArray::number(m_limits.requestReadTimeoutMs) +
               " ms.",
           "request_timeout", m_scanner.path());
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
