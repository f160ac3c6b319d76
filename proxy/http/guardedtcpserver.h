#pragma once

#include "connectionguard.h"

#include <QTcpServer>

// The listening socket handed to QHttpServer::bind(): a raised listen backlog, and a ConnectionGuard on every
// accepted connection before QHttpServer connects its own slots.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT

public:
    explicit GuardedTcpServer(const ConnectionGuard::Limits &limits, QObject *parent = nullptr);

    QTcpSocket *nextPendingConnection() override;
    void setLimits(const ConnectionGuard::Limits &limits) { m_limits = limits; }

private:
    ConnectionGuard::Limits m_limits;
};
