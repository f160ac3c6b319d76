#pragma once

#include "connectionguard.h"

#include <QHttpServer>
#include <QList>
#include <QPointer>
#include <QTcpServer>

// The listening socket handed to QHttpServer::bind(): a raised listen backlog, and a ConnectionGuard on every
// accepted connection before QHttpServer connects its own slots.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT

public:
    explicit GuardedTcpServer(const ConnectionGuard::Limits &limits, QObject *parent = nullptr);

    QTcpSocket *nextPendingConnection() override;
    // server.bind(this), then the guards' second readyRead slot is connected after each of QHttpServer's.
    void bindTo(QHttpServer &server);

private:
    ConnectionGuard::Limits m_limits;
    QList<QPointer<ConnectionGuard>> m_unfollowed; // accepted, waiting for followServerReads()
};
