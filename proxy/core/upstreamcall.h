#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QTimer>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class UpstreamPool;

// One HTTP request to a provider. Non-stream: collects the whole body under a total timeout. Stream: a
// timeout until the response headers, then an idle timeout between arrivals; data is handed out as it comes
// and reading can be paused (the reply's read buffer is bounded, so a paused call stops reading the socket).
// Tells a timeout apart from an abort, and never follows redirects or accepts compressed bodies.
class UpstreamCall : public QObject
{
    Q_OBJECT

public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    struct Request
    {
        QUrl url;
        Headers headers;
        QByteArray body;
        bool stream = false;
        qint64 timeoutMs = 30000;     // non-stream: whole call; stream: until the headers
        qint64 idleTimeoutMs = 30000; // stream: longest silence after the headers
    };

    enum class Failure { None, Timeout, IdleTimeout, Network, TooLarge };

    UpstreamCall(UpstreamPool &pool, Request request, QObject *parent = nullptr);
    ~UpstreamCall() override;

    void start();
    void abort(); // silent: no finished() after it
    void setPaused(bool paused);

    int status() const { return m_status; }
    const Headers &headers() const { return m_headers; }
    QByteArray header(const QByteArray &name) const;
    // Whole body (non-stream, or a non-2xx answer on a stream); data not yet taken (stream).
    QByteArray takeBody();
    // Data not yet taken (stream). Both hand out what the upstream sent with this call's credentials (its
    // Authorization / *key* / *token* header values) replaced by "***"; a credential split across two
    // stream reads is the one case this cannot see.
    QByteArray readAvailable(qint64 maxBytes = -1);
    QByteArray scrub(QByteArray bytes) const;

    // A whole (non-stream) answer larger than this is a broken upstream: no chat completion comes near it.
    static constexpr qint64 kMaxBodyBytes = 16 * 1024 * 1024;
    static constexpr qint64 kStreamReadBuffer = 256 * 1024;

signals:
    void dataAvailable();
    void finished(UpstreamCall::Failure failure, const QString &errorString);

private:
    void onMetaData();
    void onReadyRead();
    void onFinished();
    void onTimeout();
    void cleanup();
    bool collecting() const { return !m_request.stream || m_status < 200 || m_status >= 300; }

    UpstreamPool &m_pool;
    Request m_request;
    QString m_hostKey;
    QNetworkAccessManager *m_manager = nullptr;
    QPointer<QNetworkReply> m_reply;
    QTimer m_timer;
    int m_status = 0;
    Headers m_headers;
    QByteArray m_body;
    bool m_headersSeen = false;
    bool m_paused = false;
    bool m_finishPending = false; // finished upstream while paused, with data still buffered
    bool m_done = false;
    Failure m_timedOut = Failure::None;
    QList<QByteArray> m_secrets; // credential values sent upstream, never to be passed on
};
