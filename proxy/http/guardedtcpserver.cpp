#include "guardedtcpserver.h"

#include <QTcpSocket>

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
        new ConnectionGuard(socket, m_limits);
    }
    return socket;
}
