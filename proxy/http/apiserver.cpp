#include "apiserver.h"

#include "chatrequest.h"
#include "guardedtcpserver.h"
#include "proxyservice.h"
#include "responsewriter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMetaEnum>
#include <QTcpSocket>


namespace {
QByteArray headerValue(const QHttpServerRequest &request, const QByteArray &name)
{
    for (const auto &h : request.headers()) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QByteArray json(const QJsonObject &obj)
{
    return QJsonDocument(obj).toJson(QJsonDocument::Compact);
}
} // namespace

ApiServer::ApiServer(ProxyService &service, QObject *parent)
    : QObject(parent)
    , m_service(service)
{
    m_server.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        dispatch(request, std::move(responder));
    });
}

ApiServer::~ApiServer() = default;

bool ApiServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    ConnectionGuard::Limits limits = m_limits;
    limits.maxBodyBytes = m_service.config()->settings.maxRequestBytes;
    auto *tcp = new GuardedTcpServer(limits, this);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(tcp->errorString());
        delete tcp;
        return false;
    }
    m_tcp = tcp;
    m_server.bind(tcp);
    return true;
}

quint16 ApiServer::port() const
{
    return m_tcp ? m_tcp->serverPort() : 0;
}

void ApiServer::stopListening()
{
    if (m_tcp)
        m_tcp->close();
}

qint64 ApiServer::pendingOutputBytes() const
{
    qint64 total = 0;
    if (m_tcp) {
        for (const QTcpSocket *socket : m_tcp->findChildren<QTcpSocket *>())
            total += socket->bytesToWrite();
    }
    return total;
}

bool ApiServer::keyMatches(const QByteArray &key, const QStringList &keys)
{
    bool matched = false;
    for (const auto &candidate : keys) {
        const QByteArray k = candidate.toUtf8();
        // Walk the full length of both every time; no early exit reveals a matching prefix.
        const qsizetype n = qMax(k.size(), key.size());
        unsigned diff = unsigned(k.size() ^ key.size());
        for (qsizetype i = 0; i < n; ++i) {
            const unsigned char a = i < k.size() ? uchar(k.at(i)) : 0;
            const unsigned char b = i < key.size() ? uchar(key.at(i)) : 0;
            diff |= unsigned(a ^ b);
        }
        matched |= (diff == 0 && !k.isEmpty());
    }
    return matched;
}

std::optional<ApiError> ApiServer::checkAuth(const QHttpServerRequest &request) const
{
    QByteArray key;
    const QByteArray authorization = headerValue(request, QByteArrayLiteral("Authorization"));
    if (authorization.size() > 7 && authorization.left(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        key = authorization.mid(7).trimmed();
    else
        key = headerValue(request, QByteArrayLiteral("x-api-key")).trimmed();
    if (key.isEmpty()) {
        return ApiError::unauthorized(QStringLiteral(
            "Missing or invalid API key. Provide a valid key in the Authorization header as Bearer <key>."));
    }
    if (!keyMatches(key, m_service.config()->settings.apiKeys))
        return ApiError::unauthorized(QStringLiteral("Invalid API key provided."));
    return std::nullopt;
}

void ApiServer::sendError(QHttpServerResponder &&responder, const ApiError &error)
{
    ResponseWriter writer(std::move(responder));
    ResponseWriter::Headers headers;
    if (error.retryAfterSeconds > 0)
        headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterSeconds)});
    writer.sendWhole(error.status, error.toJson(), headers);
}

void ApiServer::dispatch(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const QString path = request.url().path();
    const auto method = request.method();
    using Method = QHttpServerRequest::Method;

    if (path == QLatin1String("/health")) {
        if (method != Method::Get && method != Method::Head) {
            sendError(std::move(responder), ApiError{405, QStringLiteral("Use GET /health."),
                                                      QStringLiteral("invalid_request_error"),
                                                      QStringLiteral("method_not_allowed"), {}, -1});
            return;
        }
        handleHealth(std::move(responder));
        return;
    }
    if (path.startsWith(QLatin1String("/v1/")) || path == QLatin1String("/v1")) {
        if (const auto error = checkAuth(request)) {
            sendError(std::move(responder), *error);
            return;
        }
        if (path == QLatin1String("/v1/chat/completions")) {
            if (method != Method::Post) {
                sendError(std::move(responder), ApiError{405, QStringLiteral("Use POST /v1/chat/completions."),
                                                          QStringLiteral("invalid_request_error"),
                                                          QStringLiteral("method_not_allowed"), {}, -1});
                return;
            }
            handleChat(request, std::move(responder));
            return;
        }
        if (path == QLatin1String("/v1/models") && method == Method::Get) {
            handleModels(std::move(responder));
            return;
        }
    }
    sendError(std::move(responder),
              ApiError::notFound(QStringLiteral("Unknown route: %1 %2")
                                     .arg(QString::fromLatin1(QMetaEnum::fromType<Method>().valueToKey(int(method))).toUpper(),
                                          path)));
}

void ApiServer::handleChat(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    ChatRequest chat;
    if (const auto error = ChatRequest::parse(request.body(), &chat)) {
        sendError(std::move(responder), *error);
        return;
    }
    auto *writer = new ResponseWriter(std::move(responder));
    m_service.startChat(std::move(chat), writer);
}

void ApiServer::handleModels(QHttpServerResponder &&responder)
{
    const qint64 created = m_service.clock().nowMs() / 1000;
    QJsonArray data;
    for (const auto &m : m_service.models()) {
        data.append(QJsonObject{{QStringLiteral("id"), m.id},
                                {QStringLiteral("object"), QStringLiteral("model")},
                                {QStringLiteral("created"), created},
                                {QStringLiteral("owned_by"), m.ownedBy}});
    }
    ResponseWriter writer(std::move(responder));
    writer.sendWhole(200, json({{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}}));
}

void ApiServer::handleHealth(QHttpServerResponder &&responder)
{
    const auto config = m_service.config();
    ResponseWriter writer(std::move(responder));
    writer.sendWhole(200, json({{QStringLiteral("status"), QStringLiteral("ok")},
                                {QStringLiteral("version"), QStringLiteral(CHAIN_VERSION)},
                                {QStringLiteral("uptime"), double(m_service.uptimeMs()) / 1000.0},
                                {QStringLiteral("providers"), int(config->providers.size())},
                                {QStringLiteral("chains"), int(config->chains.size())}}));
}
