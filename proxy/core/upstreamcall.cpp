#include "upstreamcall.h"

#include "upstreampool.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <utility>

Q_LOGGING_CATEGORY(lcUpstream, "chain.upstream")

UpstreamCall::UpstreamCall(UpstreamPool &pool, Request request, QObject *parent)
    : QObject(parent), m_pool(pool), m_request(std::move(request))
{
    m_hostKey =
        m_request.url.scheme() + QLatin1String("://") + m_request.url.host() + QLatin1Char(':') +
        QString::number(m_request.url.port(m_request.url.scheme() == QLatin1String("https") ? 443 : 80));
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &UpstreamCall::onTimeout);
    // The credentials this call sends: an upstream that echoes them (in an error body, say) must not pass
    // them on to clients, logs or the request log.
    for (const auto &h : m_request.headers) {
        const QByteArray name = h.first.toLower();
        QByteArray value = h.second.trimmed();
        if (name == "authorization" && value.toLower().startsWith("bearer "))
            value = value.mid(7).trimmed();
        if ((name == "authorization" || name.contains("key") || name.contains("token") ||
             name.contains("secret")) &&
            value.size() >= 8)
            m_secrets.append(value);
    }
}

QByteArray UpstreamCall::scrub(QByteArray bytes) const
{
    for (const QByteArray &secret : m_secrets)
        bytes.replace(secret, QByteArrayLiteral("***"));
    return bytes;
}

UpstreamCall::~UpstreamCall()
{
    abort();
}

void UpstreamCall::start()
{
    QNetworkRequest req(m_request.url);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader(QByteArrayLiteral("Accept-Encoding"), QByteArrayLiteral("identity"));
    req.setRawHeader(QByteArrayLiteral("User-Agent"), QByteArrayLiteral("429chain/" CHAIN_VERSION));
    req.setRawHeader(QByteArrayLiteral("Accept"), m_request.stream ? QByteArrayLiteral("text/event-stream")
                                                                   : QByteArrayLiteral("application/json"));
    for (const auto &h : m_request.headers)
        req.setRawHeader(h.first, h.second);

    m_manager = m_pool.acquire(m_hostKey);
    m_reply = m_manager->post(req, m_request.body);
    if (m_request.stream)
        m_reply->setReadBufferSize(kStreamReadBuffer);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &UpstreamCall::onMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &UpstreamCall::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &UpstreamCall::onFinished);
    m_timer.start(int(qMin<qint64>(m_request.timeoutMs, INT_MAX)));
}

QByteArray UpstreamCall::header(const QByteArray &name) const
{
    for (const auto &h : m_headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QByteArray UpstreamCall::takeBody()
{
    return scrub(std::exchange(m_body, QByteArray()));
}

QByteArray UpstreamCall::readAvailable(qint64 maxBytes)
{
    if (!m_reply)
        return {};
    return scrub(maxBytes < 0 ? m_reply->readAll() : m_reply->read(maxBytes));
}

void UpstreamCall::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    if (!m_request.stream || !m_headersSeen || m_done)
        return;
    if (paused) {
        m_timer.stop(); // we are slow, not the provider
    } else if (m_finishPending) {
        // The provider is done; what it sent is still buffered: hand it over, then finish.
        if (m_reply && m_reply->bytesAvailable() > 0)
            emit dataAvailable();
        if (m_reply && !m_paused) {
            m_finishPending = false;
            onFinished();
        }
    } else {
        m_timer.start(int(qMin<qint64>(m_request.idleTimeoutMs, INT_MAX)));
        if (m_reply && m_reply->bytesAvailable() > 0)
            emit dataAvailable();
    }
}

void UpstreamCall::onMetaData()
{
    if (m_headersSeen || !m_reply)
        return;
    const QVariant status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!status.isValid())
        return;
    m_headersSeen = true;
    m_status = status.toInt();
    for (const auto &h : m_reply->rawHeaderPairs())
        m_headers.append({h.first, h.second});
    // Qt 6.4 drops a read-buffer limit set before its HTTP thread created the reply; set it again now. Whole
    // bodies get one too, so an oversized answer is refused before Qt has buffered it all.
    m_reply->setReadBufferSize(kStreamReadBuffer);
    if (!m_request.stream && m_status >= 200 && m_status < 300 &&
        header(QByteArrayLiteral("Content-Type")).trimmed().toLower().startsWith("text/event-stream")) {
        // A stream where a whole answer was asked for is a broken upstream: no need to read (up to
        // kMaxBodyBytes of) it to find out.
        m_done = true;
        cleanup();
        emit finished(Failure::Network, QStringLiteral("event stream answered to a non-stream request"));
        return;
    }
    if (m_request.stream && !collecting())
        m_timer.start(int(qMin<qint64>(m_request.idleTimeoutMs, INT_MAX)));
}

void UpstreamCall::onReadyRead()
{
    if (!m_reply || m_done)
        return;
    if (!m_headersSeen)
        onMetaData();
    if (m_done || !m_reply)
        return;
    if (collecting()) {
        // Checked before reading: an oversized body is refused without ever being held in memory.
        if (m_body.size() + m_reply->bytesAvailable() <= kMaxBodyBytes)
            m_body += m_reply->readAll();
        if (m_body.size() + m_reply->bytesAvailable() > kMaxBodyBytes) {
            m_done = true;
            cleanup();
            emit finished(Failure::TooLarge,
                          QStringLiteral("response body larger than %1 bytes").arg(kMaxBodyBytes));
        }
        return;
    }
    if (!m_paused) {
        m_timer.start(int(qMin<qint64>(m_request.idleTimeoutMs, INT_MAX)));
        emit dataAvailable();
    }
}

void UpstreamCall::onTimeout()
{
    if (m_done || !m_reply)
        return;
    m_timedOut = (m_request.stream && m_headersSeen) ? Failure::IdleTimeout : Failure::Timeout;
    m_reply->abort(); // synchronous: onFinished runs now
}

void UpstreamCall::onFinished()
{
    if (m_done || !m_reply)
        return;
    if (!m_headersSeen)
        onMetaData();
    if (m_done || !m_reply)
        return;
    // Whatever is still buffered belongs to the answer.
    if (m_reply->bytesAvailable() > 0) {
        if (collecting())
            m_body += m_reply->readAll();
        else
            emit dataAvailable();
    }
    if (!m_reply)
        return; // the consumer aborted while handling the data
    if (m_request.stream && m_paused && m_reply->bytesAvailable() > 0) {
        // The consumer paused (a slow client) with the end of the stream still buffered: finishing now would
        // drop it. setPaused(false) hands over the rest and finishes.
        m_finishPending = true;
        m_timer.stop();
        return;
    }
    m_done = true;
    m_timer.stop();
    Failure failure = Failure::None;
    QString error;
    if (m_timedOut != Failure::None) {
        failure = m_timedOut;
        error = m_timedOut == Failure::Timeout
                    ? QStringLiteral("timeout_%1ms").arg(m_request.timeoutMs)
                    : QStringLiteral("no data for %1ms").arg(m_request.idleTimeoutMs);
    } else if (m_reply->error() != QNetworkReply::NoError && m_status == 0) {
        failure = Failure::Network;
        error = QString::fromUtf8(scrub(m_reply->errorString().toUtf8()));
    } else if (m_reply->error() != QNetworkReply::NoError &&
               m_reply->error() >= QNetworkReply::ConnectionRefusedError &&
               m_reply->error() < QNetworkReply::ProxyConnectionRefusedError) {
        // Connection-level failure after the headers (remote closed in the middle of the body).
        failure = Failure::Network;
        error = QString::fromUtf8(scrub(m_reply->errorString().toUtf8()));
    }
    cleanup();
    emit finished(failure, error);
}

void UpstreamCall::abort()
{
    if (m_done && !m_reply)
        return;
    m_done = true;
    m_timer.stop();
    cleanup();
}

void UpstreamCall::cleanup()
{
    if (!m_reply)
        return;
    m_pool.releaseReply(std::exchange(m_reply, nullptr), this, std::exchange(m_manager, nullptr), m_hostKey);
}
