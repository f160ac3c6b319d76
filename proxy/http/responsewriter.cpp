#include "responsewriter.h"

#include "connectionguard.h"

ResponseWriter::ResponseWriter(QHttpServerResponder &&responder, QObject *parent)
    : ClientTransport(parent), m_responder(std::move(responder)), m_socket(m_responder.socket())
{
    if (m_socket) {
        connect(m_socket, &QTcpSocket::disconnected, this, [this] {
            if (m_state != State::Done)
                emit clientGone();
        });
        connect(m_socket, &QObject::destroyed, this, [this] {
            if (m_state != State::Done)
                emit clientGone();
        });
        connect(m_socket, &QTcpSocket::bytesWritten, this, &ResponseWriter::onBytesWritten);
    }
}

ResponseWriter::~ResponseWriter()
{
    // A responder destroyed without an answer leaves the client hanging; every path must answer.
    if (m_state == State::Idle && isConnected())
        sendWhole(
            500,
            QByteArrayLiteral(
                R"({"error":{"message":"Internal server error","type":"server_error","param":null,"code":null}})"));
    else if (m_state == State::Streaming && isConnected())
        abortConnection();
}

bool ResponseWriter::isConnected() const
{
    return m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

qint64 ResponseWriter::pendingBytes() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

int ResponseWriter::safeStatus(int status)
{
    switch (status) {
    case 100:
    case 101:
    case 102:
    case 200:
    case 201:
    case 202:
    case 203:
    case 204:
    case 205:
    case 206:
    case 207:
    case 208:
    case 226:
    case 300:
    case 301:
    case 302:
    case 303:
    case 304:
    case 305:
    case 307:
    case 308:
    case 421:
    case 422:
    case 423:
    case 424:
    case 426:
    case 428:
    case 429:
    case 431:
    case 451:
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
    case 505:
    case 506:
    case 507:
    case 508:
    case 510:
    case 511:
    case 599:
        return status;
    default:
        break;
    }
    if (status >= 400 && status <= 418)
        return status;
    if (status >= 400 && status < 500)
        return 400;
    if (status >= 200 && status < 300)
        return 200;
    return 502;
}

void ResponseWriter::writeHead(int status, const Headers &headers, const QByteArray &contentType)
{
    m_responder.writeStatusLine(QHttpServerResponder::StatusCode(safeStatus(status)));
    m_responder.writeHeader(QByteArrayLiteral("Content-Type"), contentType);
    for (const auto &h : headers)
        m_responder.writeHeader(h.first, h.second);
    for (const auto &h : ConnectionGuard::responseHeaders(m_socket)) // CORS, set by the API server
        m_responder.writeHeader(h.first, h.second);
    if (ConnectionGuard::closeAfterResponse(m_socket))
        m_responder.writeHeader(QByteArrayLiteral("Connection"), QByteArrayLiteral("close"));
}

void ResponseWriter::sendWhole(int status, const QByteArray &body, const Headers &headers,
                               const QByteArray &contentType)
{
    if (m_state != State::Idle)
        return;
    m_state = State::Done;
    if (!isConnected()) {
        finish();
        return;
    }
    writeHead(status, headers, contentType);
    m_responder.writeHeader(QByteArrayLiteral("Content-Length"), QByteArray::number(body.size()));
    m_responder.writeBody(body);
    finish();
}

void ResponseWriter::beginStream(int status, const Headers &headers, const QByteArray &contentType)
{
    if (m_state != State::Idle)
        return;
    m_state = State::Streaming;
    if (!isConnected())
        return;
    writeHead(status, headers, contentType);
    m_responder.writeHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache"));
    m_responder.writeHeader(QByteArrayLiteral("Transfer-Encoding"), QByteArrayLiteral("chunked"));
    m_responder.writeBody(QByteArray()); // ends the header block
}

void ResponseWriter::writeChunk(const QByteArray &data)
{
    if (m_state != State::Streaming || data.isEmpty() || !isConnected())
        return;
    QByteArray framed;
    framed.reserve(data.size() + 16);
    framed += QByteArray::number(data.size(), 16);
    framed += "\r\n";
    framed += data;
    framed += "\r\n";
    m_responder.writeBody(framed);
    if (m_socket->bytesToWrite() > kDrainedBytes)
        m_waitingForDrain = true;
}

void ResponseWriter::endStream()
{
    if (m_state != State::Streaming)
        return;
    m_state = State::Done;
    if (isConnected())
        m_responder.writeBody(QByteArrayLiteral("0\r\n\r\n"));
    finish();
}

void ResponseWriter::abortConnection()
{
    m_state = State::Done;
    if (m_socket)
        m_socket->abort();
}

void ResponseWriter::finish()
{
    ConnectionGuard::responseFinished(m_socket);
}

void ResponseWriter::onBytesWritten()
{
    if (m_waitingForDrain && m_socket && m_socket->bytesToWrite() <= kDrainedBytes) {
        m_waitingForDrain = false;
        emit drained();
    }
}
