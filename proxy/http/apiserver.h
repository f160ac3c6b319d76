#pragma once

#include "apierror.h"
#include "connectionguard.h"
#include "routetable.h"

#include <QHostAddress>
#include <QHttpServer>
#include <QObject>
#include <QPointer>

#include <optional>

class GuardedTcpServer;
class ProxyService;
class ResponseWriter;

// The HTTP face of the engine: one dispatcher over QHttpServer for the OpenAI-compatible routes and /health,
// with auth on every /v1/* route. Lives on the engine thread beside the ProxyService it serves.
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
    // Stops accepting connections (graceful shutdown); requests in flight go on.
    void stopListening();
    // Bytes answered but not yet handed to the network on any client connection (shutdown waits for zero).
    qint64 pendingOutputBytes() const;

    // Compares `key` with every configured key in time independent of where they differ; returns the index
    // of the matching key, or -1.
    static int matchKey(const QByteArray &key, const QStringList &keys);
    static bool keyMatches(const QByteArray &key, const QStringList &keys) { return matchKey(key, keys) >= 0; }

    RouteTable &routes() { return m_routes; }
    static void sendError(QHttpServerResponder &&responder, const ApiError &error);
    static void sendJson(QHttpServerResponder &&responder, int status, const QByteArray &json);

private:
    void dispatch(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // The label of the key that opens `access`, or the 401/403 to send.
    std::optional<ApiError> checkAuth(const QHttpServerRequest &request, RouteTable::Access access, QString *label) const;
    void addCoreRoutes();
    void handleChat(const RouteContext &context, QHttpServerResponder &&responder);
    void handleModels(QHttpServerResponder &&responder);
    void handleHealth(QHttpServerResponder &&responder);

    ProxyService &m_service;
    QHttpServer m_server;
    RouteTable m_routes;
    QPointer<GuardedTcpServer> m_tcp;
    ConnectionGuard::Limits m_limits;
};
