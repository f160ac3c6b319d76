#include "guardedtcpserver.h"

#include <QTcpSocket>

#include <utility>

GuardedTcpServer::GuardedTcpServer(const ConnectionGuard::Limits &limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits)
{
    setListenBacklogSize(1024);
}

QTcpSocket *GuardedTcpServer::nextPendingConnection()
{
    QTcpSocket *socket = QTcpServer::nextPendingConnection();
    if (socket) {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_unfollowed.append(new ConnectionGuard(socket, m_limits));
    }
    return socket;
}

void GuardedTcpServer::bindTo(QHttpServer &server)
{
    server.bind(this);
    // Connected after QHttpServer's newConnection slot: by now it has connected its readyRead slots.
    connect(this, &QTcpServer::newConnection, this, [this] {
        for (const QPointer<ConnectionGuard> &guard : std::exchange(m_unfollowed, {})) {
            if (guard)
                guard->followServerReads();
        }
    });
}
