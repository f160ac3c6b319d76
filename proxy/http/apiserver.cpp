#include "apiserver.h"

#include "adminroutes.h"
#include "eventroutes.h"
#include "guardedtcpserver.h"
#include "metricsroute.h"
#include "openaichatrequest.h"
#include "openaichatsink.h"
#include "openaierror.h"
#include "openairoutes.h"
#include "proxyservice.h"
#include "ratelimitroutes.h"
#include "responsewriter.h"
#include "staticroutes.h"
#include "statsroutes.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMetaEnum>
#include <QTcpSocket>

namespace {
QByteArray json(const QJsonObject &obj)
{
    return QJsonDocument(obj).toJson(QJsonDocument::Compact);
}
} // namespace

ApiServer::ApiServer(ProxyService &service, QObject *parent) : QObject(parent), m_service(service)
{
    addCoreRoutes();
    registerOpenAiRoutes(m_routes, m_service);
    registerStatsRoutes(m_routes, m_service);
    registerRateLimitRoutes(m_routes, m_service);
    registerAdminRoutes(m_routes, m_service);
    registerEventRoutes(m_routes, m_service, *this);
    registerMetricsRoute(m_routes, m_service, m_metrics, *this);
    registerStaticRoutes(m_routes);
    connect(&m_service, &ProxyService::requestFinished, &m_metrics, &Metrics::record);
    m_server.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        dispatch(request, std::move(responder));
    });
}

ApiServer::~ApiServer()
{
    emit stopping();
}

bool ApiServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    // The bind rule: an address other machines reach is never served without keys.
    if (!address.isLoopback() && m_service.config()->settings.apiKeys.isEmpty()) {
        if (error)
            *error =
                QStringLiteral("refusing to listen on %1 without settings.apiKeys: anyone on the network "
                               "could use your providers; add a key or bind 127.0.0.1")
                    .arg(address.toString());
        return false;
    }
    ConnectionGuard::Limits limits = m_limits;
    limits.maxBodyBytes = m_service.config()->settings.maxRequestBytes;
    auto *tcp = new GuardedTcpServer(limits, this);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1:%2: %3")
                         .arg(address.toString())
                         .arg(port)
                         .arg(tcp->errorString());
        delete tcp;
        return false;
    }
    m_tcp = tcp;
    m_listenAddress = address;
    tcp->bindTo(m_server);
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
    emit stopping();
}

bool ApiServer::isLoopbackOnly() const
{
    return m_listenAddress.isNull() || m_listenAddress.isLoopback();
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

int ApiServer::openConnections() const
{
    return m_tcp ? int(m_tcp->findChildren<QTcpSocket *>().size()) : 0;
}

int ApiServer::matchKey(const QByteArray &key, const QStringList &keys)
{
    int matched = -1;
    for (int index = 0; index < keys.size(); ++index) {
        const QByteArray k = keys.at(index).toUtf8();
        // Walk the full length of both every time; no early exit reveals a matching prefix.
        const qsizetype n = qMax(k.size(), key.size());
        unsigned diff = unsigned(k.size() ^ key.size());
        for (qsizetype i = 0; i < n; ++i) {
            const unsigned char a = i < k.size() ? uchar(k.at(i)) : 0;
            const unsigned char b = i < key.size() ? uchar(key.at(i)) : 0;
            diff |= unsigned(a ^ b);
        }
        if (diff == 0 && !k.isEmpty() && matched < 0)
            matched = index;
    }
    return matched;
}

std::optional<ApiError> ApiServer::checkAuth(const QHttpServerRequest &request, RouteTable::Access access,
                                             QString *label) const
{
    if (access == RouteTable::Access::Public)
        return std::nullopt;
    QByteArray key;
    const QByteArray authorization = RouteContext::headerOf(request, QByteArrayLiteral("Authorization"));
    if (authorization.size() > 7 && authorization.left(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        key = authorization.mid(7).trimmed();
    else
        key = RouteContext::headerOf(request, QByteArrayLiteral("x-api-key")).trimmed();
    if (key.isEmpty()) {
        return ApiError::unauthorized(QStringLiteral(
            "Missing or invalid API key. Provide a valid key in the Authorization header as Bearer <key>."));
    }
    const Settings &settings = m_service.config()->settings;
    if (access == RouteTable::Access::Admin && !settings.adminKeys.isEmpty()) {
        const int admin = matchKey(key, settings.adminKeys);
        if (admin >= 0) {
            *label = QStringLiteral("admin key %1").arg(admin + 1);
            return std::nullopt;
        }
        if (matchKey(key, settings.apiKeys) >= 0) {
            return ApiError::make(
                403, ApiError::Kind::Permission, QStringLiteral("admin_key_required"),
                QStringLiteral("This key may use the proxy but not the admin API (settings.adminKeys)."));
        }
        return ApiError::unauthorized(QStringLiteral("Invalid API key provided."));
    }
    const int index = matchKey(key, settings.apiKeys);
    if (index < 0) {
        // An admin key opens the proxy routes too.
        const int admin = matchKey(key, settings.adminKeys);
        if (admin < 0)
            return ApiError::unauthorized(QStringLiteral("Invalid API key provided."));
        *label = QStringLiteral("admin key %1").arg(admin + 1);
        return std::nullopt;
    }
    *label = QStringLiteral("key %1").arg(index + 1);
    return std::nullopt;
}

void ApiServer::sendError(QHttpServerResponder &&responder, const ApiError &error)
{
    ResponseWriter writer(std::move(responder));
    ResponseWriter::Headers headers;
    if (error.retryAfterSeconds > 0)
        headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterSeconds)});
    writer.sendWhole(error.status, OpenAiError::json(error), headers);
}

void ApiServer::sendJson(QHttpServerResponder &&responder, int status, const QByteArray &json)
{
    ResponseWriter writer(std::move(responder));
    writer.sendWhole(status, json);
}

void ApiServer::sendObject(QHttpServerResponder &&responder, int status, const QJsonObject &object)
{
    sendJson(std::move(responder), status, json(object));
}

void ApiServer::sendPlainError(QHttpServerResponder &&responder, int status, const QString &message)
{
    sendJson(std::move(responder), status, json({{QStringLiteral("error"), message}}));
}

void ApiServer::addCoreRoutes()
{
    using Method = RouteTable::Method;
    using Access = RouteTable::Access;
    m_routes.add(Method::Get, QStringLiteral("/health"), Access::Public,
                 [this](const RouteContext &, QHttpServerResponder &&r) { handleHealth(std::move(r)); });
    m_routes.add(Method::Post, QStringLiteral("/v1/chat/completions"), Access::ApiKey,
                 [this](const RouteContext &c, QHttpServerResponder &&r) { handleChat(c, std::move(r)); });
    m_routes.add(Method::Get, QStringLiteral("/v1/models"), Access::ApiKey,
                 [this](const RouteContext &, QHttpServerResponder &&r) { handleModels(std::move(r)); });
}

bool ApiServer::hostAllowed(const QByteArray &hostHeader, const Settings &settings)
{
    QByteArray host = hostHeader.trimmed().toLower();
    if (host.isEmpty())
        return true; // HTTP/1.0 without Host: no browser sends that, so no rebinding either
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        host = host.mid(1, close - 1);
    } else if (host.count(':') == 1) {
        host.truncate(host.indexOf(':'));
    }
    if (host.endsWith('.'))
        host.chop(1);
    const QString name = QString::fromLatin1(host);
    // An address typed as such cannot be rebound; only names can.
    if (!QHostAddress(name).isNull())
        return true;
    if (name == QLatin1String("localhost") || name.endsWith(QLatin1String(".localhost")) ||
        name.compare(settings.host, Qt::CaseInsensitive) == 0)
        return true;
    for (const QString &allowed : settings.allowedHosts) {
        if (allowed == QLatin1String("*"))
            return true;
        const QString pattern = allowed.toLower();
        if (pattern.startsWith(QLatin1Char('.'))) {
            if (name == pattern.mid(1) || name.endsWith(pattern))
                return true;
        } else if (name == pattern ||
                   (pattern.startsWith(QLatin1Char('[')) && pattern.mid(1).chopped(1) == name)) {
            return true;
        }
    }
    return false;
}

bool ApiServer::originAllowed(const QByteArray &origin, const Settings &settings)
{
    if (origin.isEmpty() || origin == "null")
        return false;
    QString normalized = QString::fromLatin1(origin).toLower();
    while (normalized.endsWith(QLatin1Char('/')))
        normalized.chop(1);
    for (const QString &allowed : settings.corsOrigins) {
        QString candidate = allowed.toLower();
        while (candidate.endsWith(QLatin1Char('/')))
            candidate.chop(1);
        if (candidate == QLatin1String("*") || candidate == normalized)
            return true;
    }
    return false;
}

bool ApiServer::applySecurityRules(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const auto config = m_service.config();
    const Settings &settings = config->settings;
    QTcpSocket *socket = responder.socket();
    if (!hostAllowed(RouteContext::headerOf(request, QByteArrayLiteral("Host")), settings)) {
        sendError(
            std::move(responder),
            ApiError::make(403, ApiError::Kind::Permission, QStringLiteral("host_not_allowed"),
                           QStringLiteral("This server does not answer to the host name in the Host header; "
                                          "add it to settings.allowedHosts if it is yours.")));
        return false;
    }
    const QByteArray origin = RouteContext::headerOf(request, QByteArrayLiteral("Origin"));
    const bool corsAllowed = originAllowed(origin, settings);
    ConnectionGuard::Headers cors;
    if (corsAllowed) {
        cors.append({QByteArrayLiteral("Access-Control-Allow-Origin"), origin});
        cors.append({QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin")});
        cors.append({QByteArrayLiteral("Access-Control-Expose-Headers"),
                     QByteArrayLiteral("X-429chain-Provider, X-429chain-Attempts, Retry-After")});
    }
    ConnectionGuard::setResponseHeaders(socket, cors);
    const QByteArray preflightMethod =
        RouteContext::headerOf(request, QByteArrayLiteral("Access-Control-Request-Method"));
    if (request.method() != QHttpServerRequest::Method::Options || origin.isEmpty() ||
        preflightMethod.isEmpty())
        return true;
    // A CORS preflight: answered here, without a key (browsers send none), and only for configured origins.
    if (!corsAllowed) {
        sendError(
            std::move(responder),
            ApiError::make(403, ApiError::Kind::Permission, QStringLiteral("origin_not_allowed"),
                           QStringLiteral("Cross-origin requests from this origin are not allowed; add it to "
                                          "settings.corsOrigins to allow them.")));
        return false;
    }
    ResponseWriter writer(std::move(responder));
    writer.sendWhole(204, QByteArray(),
                     {{QByteArrayLiteral("Access-Control-Allow-Methods"),
                       QByteArrayLiteral("GET, POST, PUT, DELETE, OPTIONS")},
                      {QByteArrayLiteral("Access-Control-Allow-Headers"),
                       QByteArrayLiteral("Authorization, Content-Type, X-Api-Key, Accept")},
                      {QByteArrayLiteral("Access-Control-Max-Age"), QByteArrayLiteral("600")}},
                     QByteArrayLiteral("text/plain"));
    return false;
}

void ApiServer::dispatch(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    // Answers go out in request order: one pipelined behind an answer still being sent is dropped unanswered
    // and its connection closes after that answer (a client may retry it on a new connection).
    if (!ConnectionGuard::beginResponse(responder.socket()))
        return;
    if (!applySecurityRules(request, responder))
        return;
    if (m_draining) {
        QPointer<QTcpSocket> socket = responder.socket();
        const ApiError error =
            ApiError::make(503, ApiError::Kind::Overloaded, QStringLiteral("shutting_down"),
                           QStringLiteral("The proxy is shutting down; retry on its next start."));
        ResponseWriter::Headers headers;
        if (!ConnectionGuard::closeAfterResponse(socket))
            headers.append({QByteArrayLiteral("Connection"), QByteArrayLiteral("close")});
        ResponseWriter writer(std::move(responder));
        writer.sendWhole(error.status, OpenAiError::json(error), headers);
        if (socket)
            socket->disconnectFromHost(); // after what is queued is written
        return;
    }
    // Matched encoded, so a parameter is percent-decoded once (by the route table) and may contain '/'.
    const QString path = request.url().path(QUrl::FullyEncoded);
    const bool apiPath = path == QLatin1String("/v1") || path.startsWith(QLatin1String("/v1/"));
    const RouteTable::Match match = m_routes.match(request.method(), path);
    // Every /v1/* path needs a key, even one that does not exist: no route is revealed to a stranger.
    const RouteTable::Access access = match.route ? match.route->access
                                      : apiPath   ? RouteTable::Access::ApiKey
                                                  : RouteTable::Access::Public;
    QString label;
    if (const auto error = checkAuth(request, access, &label)) {
        sendError(std::move(responder), *error);
        return;
    }
    if (match.route) {
        const RouteContext context{request, match.params, QUrlQuery(request.url()), label};
        match.route->handler(context, std::move(responder));
        return;
    }
    if (!match.allowedMethods.isEmpty()) {
        sendError(std::move(responder),
                  ApiError::make(405, ApiError::Kind::InvalidRequest, QStringLiteral("method_not_allowed"),
                                 QStringLiteral("Method not allowed; use %1 %2.")
                                     .arg(match.allowedMethods.join(QLatin1String(", ")), path)));
        return;
    }
    // The web UI's client-side routes (/providers, /log, …) get its page, as "/" does.
    const RouteTable::Match app = m_routes.match(request.method(), QStringLiteral("/"));
    if (!apiPath && app.route) {
        app.route->handler(RouteContext{request, {}, QUrlQuery(request.url()), label}, std::move(responder));
        return;
    }
    const QString method =
        QString::fromLatin1(QMetaEnum::fromType<RouteTable::Method>().valueToKey(int(request.method())))
            .toUpper();
    sendError(std::move(responder),
              ApiError::notFound(QStringLiteral("Unknown route: %1 %2").arg(method, path)));
}

void ApiServer::handleChat(const RouteContext &context, QHttpServerResponder &&responder)
{
    OpenAiChatRequest chat;
    if (const auto error = OpenAiChatRequest::parse(context.request.body(), &chat)) {
        sendError(std::move(responder), *error);
        return;
    }
    chat.request.clientKeyLabel = context.keyLabel;
    auto *sink = new OpenAiChatSink(new ResponseWriter(std::move(responder)), chat.clientWantsUsage);
    m_service.startRequest(std::move(chat.request), sink);
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
    sendJson(std::move(responder), 200,
             json({{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}}));
}

void ApiServer::handleHealth(QHttpServerResponder &&responder)
{
    const auto config = m_service.config();
    sendJson(std::move(responder), 200,
             json({{QStringLiteral("status"), QStringLiteral("ok")},
                   {QStringLiteral("version"), QStringLiteral(CHAIN_VERSION)},
                   {QStringLiteral("uptime"), double(m_service.uptimeMs()) / 1000.0},
                   {QStringLiteral("providers"), int(config->providers.size())},
                   {QStringLiteral("chains"), int(config->chains.size())}}));
}
