#pragma once

#include "apierror.h"
#include "config.h"
#include "connectionguard.h"
#include "metrics.h"
#include "routetable.h"

#include <QHostAddress>
#include <QHttpServer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <optional>

class GuardedTcpServer;
class ProxyService;
class ResponseWriter;

// The HTTP face of the engine: one dispatcher over QHttpServer for the client routes (OpenAI chat
// completions, Anthropic Messages: each a protocol adapter of chain_protocols over the same engine) and
// /health, with auth on every /v1/* route, plus the route groups registered from their own files (stats,
// admin, events, metrics). Owns the Prometheus Metrics, fed by the service's finished requests. Lives on the
// engine thread beside the ProxyService it serves.
class ApiServer : public QObject
{
    Q_OBJECT

public:
    explicit ApiServer(ProxyService &service, QObject *parent = nullptr);
    ~ApiServer() override;

    // Connection limits for listen(); maxBodyBytes is taken from settings.maxRequestBytes.
    void setConnectionLimits(const ConnectionGuard::Limits &limits) { m_limits = limits; }
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const;
    // Stops accepting connections (graceful shutdown); requests in flight go on, live feeds end (stopping()).
    void stopListening();
    // Shutting down: every new request (on connections still open) gets 503 `shutting_down` and the
    // connection is closed after it; requests already running are not affected.
    void setDraining(bool draining) { m_draining = draining; }
    bool isDraining() const { return m_draining; }
    // True while listening on a loopback address only (or not listening at all).
    bool isLoopbackOnly() const;
    // Bytes answered but not yet handed to the network on any client connection (shutdown waits for zero).
    qint64 pendingOutputBytes() const;
    // Client connections accepted and not yet closed and deleted.
    int openConnections() const;

    // Compares `key` with every configured key in time independent of where they differ; returns the index
    // of the matching key, or -1.
    static int matchKey(const QByteArray &key, const QStringList &keys);

    // The label of the key that opens `access`, or the 401/403 to send.
    std::optional<ApiError> checkAuth(const QHttpServerRequest &request, RouteTable::Access access,
                                      QString *label) const;

    // The DNS-rebinding defence: a Host header naming an IP address, a loopback name (localhost,
    // *.localhost), settings.host or an entry of settings.allowedHosts. An absent Host passes.
    static bool hostAllowed(const QByteArray &hostHeader, const Settings &settings);
    // An Origin listed in settings.corsOrigins ("*" allows every origin).
    static bool originAllowed(const QByteArray &origin, const Settings &settings);

    RouteTable &routes() { return m_routes; }
    // An error in the shape of the protocol `path` belongs to (ErrorFormats: Anthropic's under /v1/messages,
    // OpenAI's elsewhere); without a path, OpenAI's.
    static void sendError(QHttpServerResponder &&responder, const ApiError &error);
    static void sendError(QHttpServerResponder &&responder, const ApiError &error, const QString &path);
    static void sendJson(QHttpServerResponder &&responder, int status, const QByteArray &json);
    static void sendObject(QHttpServerResponder &&responder, int status, const QJsonObject &object);
    // The reference's {"error":"<message>"} body, which its stats and admin routes use instead of OpenAI's
    // shape.
    static void sendPlainError(QHttpServerResponder &&responder, int status, const QString &message);

signals:
    // The server stops listening or goes away: long-lived answers (event feeds) end now.
    void stopping();

private:
    void dispatch(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // Host check, CORS headers and preflight; false when the request has been answered (or refused) here.
    bool applySecurityRules(const QHttpServerRequest &request, QHttpServerResponder &responder,
                            const QString &path);
    void addCoreRoutes();
    void handleChat(const RouteContext &context, QHttpServerResponder &&responder);
    // POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages protocol
    // (proxy/protocols/anthropic).
    void handleMessages(const RouteContext &context, QHttpServerResponder &&responder);
    static void handleCountTokens(const RouteContext &context, QHttpServerResponder &&responder);
    void handleModels(QHttpServerResponder &&responder);
    void handleHealth(QHttpServerResponder &&responder);

    ProxyService &m_service;
    QHttpServer m_server;
    RouteTable m_routes;
    QPointer<GuardedTcpServer> m_tcp;
    ConnectionGuard::Limits m_limits;
    QHostAddress m_listenAddress;
    Metrics m_metrics;
    bool m_draining = false;
};
