#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QPair>
#include <QString>

// A real HTTP client for tests, over loopback: whole requests, SSE streams with arrival times, and raw bytes
// on a socket for what a well-behaved client would never send.
class HttpClient
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    struct Response
    {
        int status = 0;
        QByteArray body;
        Headers headers;
        QString error; // transport error or timeout
        QByteArray header(const QByteArray &name) const;
        QJsonObject json() const;
    };

    struct StreamEvent
    {
        QByteArray event;
        QByteArray data;
        bool comment = false;
        qint64 atMs = 0; // since the request was sent
    };

    struct StreamResponse : Response
    {
        QList<StreamEvent> events;
        bool sawDone() const;
        QString text() const; // concatenated delta contents
    };

    // Authorization: Bearer test-key unless `headers` has its own.
    static Response post(const QString &url, const QByteArray &body, Headers headers = {},
                         int timeoutMs = 20000);
    static Response get(const QString &url, Headers headers = {}, int timeoutMs = 20000);
    static StreamResponse stream(const QString &url, const QByteArray &body, Headers headers = {},
                                 int timeoutMs = 30000);
    // Sends `bytes` on a fresh connection and returns all bytes received until the server closes or the
    // timeout.
    static QByteArray raw(quint16 port, const QByteArray &bytes, int timeoutMs = 5000);
    static QByteArray chatBody(const QString &model, bool stream,
                               const QString &prompt = QStringLiteral("Hello"),
                               const QJsonObject &extra = {});
};
