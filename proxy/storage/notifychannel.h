#pragma once

#include "storagecommon.h"

#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSqlDriver>
#include <QString>

#include <functional>

class QTimer;

// The replicas' message channel on PostgreSQL, on a thread of its own (RequestStore's bus thread) with two
// connections: one only LISTENs, one only sends NOTIFYs. Kept apart from the writer so that a rate-limit
// message never waits behind a batch of rows, and a notification is never read along with a query's answer
// (QPSQL looks for notifications when the socket wakes it). Reconnects by itself (a probe every second
// notices a server that went away). Limiter messages go to the limiter receiver; a config change (or a
// reconnect, which may have missed one) calls `configChanged` on the bus thread.
class NotifyChannel : public QObject
{
    Q_OBJECT

public:
    static constexpr const char *kLimiterChannel = "chain_limiter";
    static constexpr const char *kConfigChannel = "chain_config";
    static constexpr int kRetryMs = 1000;
    static constexpr int kProbeIntervalMs = 1000;

    NotifyChannel(const StorageCommon::Target &target, const QString &connectionName,
                  std::function<void()> configChanged);
    ~NotifyChannel() override;

    // Any thread.
    void publishLimiterMessage(const QByteArray &message);
    void setLimiterReceiver(QObject *context, std::function<void(const QByteArray &)> receiver);

    // Bus thread.
    void start();
    void stop();

private:
    bool connectBoth();
    void disconnectBoth();
    void retry();
    void probe();
    void send(const QByteArray &message);
    void onNotification(const QString &name, QSqlDriver::NotificationSource source, const QVariant &payload);
    QString listenName() const { return m_name + QStringLiteral(".listen"); }
    QString notifyName() const { return m_name + QStringLiteral(".notify"); }

    const StorageCommon::Target m_target;
    const QString m_name;
    std::function<void()> m_configChanged;
    QMutex m_mutex; // guards the receiver
    QPointer<QObject> m_receiverContext;
    std::function<void(const QByteArray &)> m_receiver;
    bool m_connected = false;
    bool m_warned = false;
    QTimer *m_retryTimer = nullptr;
    QTimer *m_probeTimer = nullptr;
};
