#include "httpclient.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QTcpSocket>
#include <QTimer>

#include "sseparser.h"

namespace {
QNetworkAccessManager &manager()
{
    static QNetworkAccessManager *m = new QNetworkAccessManager;
    return *m;
}

QNetworkRequest makeRequest(const QString &url, const HttpClient::Headers &headers)
{
    QNetworkRequest req{QUrl(url)};
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    bool hasAuth = false;
    for (const auto &h : headers) {
        req.setRawHeader(h.first, h.second);
        if (h.first.compare("Authorization", Qt::CaseInsensitive) == 0 ||
            h.first.compare("x-api-key", Qt::CaseInsensitive) == 0)
            hasAuth = true;
    }
    if (!hasAuth)
        req.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key"));
    return req;
}

void finishResponse(QNetworkReply *reply, HttpClient::Response &r)
{
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    for (const auto &h : reply->rawHeaderPairs())
        r.headers.append({h.first, h.second});
    if (reply->error() != QNetworkReply::NoError && r.status == 0)
        r.error = reply->errorString();
}

HttpClient::Response run(QNetworkReply *reply, int timeoutMs)
{
    HttpClient::Response r;
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    if (!reply->isFinished()) {
        r.error = QStringLiteral("timeout");
        reply->abort();
    }
    finishResponse(reply, r);
    r.body = reply->readAll();
    reply->deleteLater();
    return r;
}
} // namespace

QByteArray HttpClient::Response::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QJsonObject HttpClient::Response::json() const
{
    return QJsonDocument::fromJson(body).object();
}

bool HttpClient::StreamResponse::sawDone() const
{
    for (const auto &e : events) {
        if (e.data == "[DONE]")
            return true;
    }
    return false;
}

QString HttpClient::StreamResponse::text() const
{
    QString out;
    for (const auto &e : events) {
        const QJsonObject obj = QJsonDocument::fromJson(e.data).object();
        for (const auto &c : obj.value(QLatin1String("choices")).toArray())
            out += c.toObject()
                       .value(QLatin1String("delta"))
                       .toObject()
                       .value(QLatin1String("content"))
                       .toString();
    }
    return out;
}

HttpClient::Response HttpClient::post(const QString &url, const QByteArray &body, Headers headers,
                                      int timeoutMs)
{
    return run(manager().post(makeRequest(url, headers), body), timeoutMs);
}

HttpClient::Response HttpClient::get(const QString &url, Headers headers, int timeoutMs)
{
    return run(manager().get(makeRequest(url, headers)), timeoutMs);
}

HttpClient::StreamResponse HttpClient::stream(const QString &url, const QByteArray &body, Headers headers,
                                              int timeoutMs)
{
    StreamResponse r;
    QElapsedTimer clock;
    clock.start();
    QNetworkReply *reply = manager().post(makeRequest(url, headers), body);
    SseParser parser;
    QList<SseEvent> parsed;
    QObject::connect(reply, &QNetworkReply::readyRead, reply, [&] {
        parsed.clear();
        const QByteArray bytes = reply->readAll();
        r.body += bytes;
        parser.feed(bytes, parsed);
        for (const auto &e : parsed) {
            StreamEvent se;
            se.event = e.event;
            se.data = e.data;
            se.comment = e.kind == SseEvent::Kind::Comment;
            se.atMs = clock.elapsed();
            r.events.append(se);
        }
    });
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    if (!reply->isFinished()) {
        r.error = QStringLiteral("timeout");
        reply->abort();
    }
    finishResponse(reply, r);
    r.body += reply->readAll();
    reply->disconnect();
    reply->deleteLater();
    return r;
}

QByteArray HttpClient::raw(quint16 port, const QByteArray &bytes, int timeoutMs)
{
    // The server under test runs on this thread: wait in an event loop, never in a blocking call.
    QTcpSocket socket;
    QByteArray out;
    QEventLoop loop;
    QObject::connect(&socket, &QTcpSocket::connected, &loop, [&] { socket.write(bytes); });
    QObject::connect(&socket, &QTcpSocket::readyRead, &loop, [&] { out += socket.readAll(); });
    QObject::connect(&socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QTcpSocket::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    socket.connectToHost(QHostAddress::LocalHost, port);
    loop.exec();
    out += socket.readAll();
    return out;
}

QByteArray HttpClient::chatBody(const QString &model, bool stream, const QString &prompt,
                                const QJsonObject &extra)
{
    QJsonObject body = extra;
    body.insert(QLatin1String("model"), model);
    body.insert(QLatin1String("messages"),
                QJsonArray{QJsonObject{{QLatin1String("role"), QLatin1String("user")},
                                       {QLatin1String("content"), prompt}}});
    if (stream)
        body.insert(QLatin1String("stream"), true);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}
