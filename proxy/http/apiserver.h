#pragma once

#include "apierror.h"
#include "connectionguard.h"

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

    // Compares `key` with every configured key in time independent of where they differ.
    static bool keyMatches(const QByteArray &key, const QStringList &keys);

private:
    void dispatch(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    std::optional<ApiError> checkAuth(const QHttpServerRequest &request) const;
    void handleChat(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void handleModels(QHttpServerResponder &&responder);
    void handleHealth(QHttpServerResponder &&responder);
    static void sendError(QHttpServerResponder &&responder, const ApiError &error);

    ProxyService &m_service;
    QHttpServer m_server;
    QPointer<GuardedTcpServer> m_tcp;
    ConnectionGuard::Limits m_limits;
};
