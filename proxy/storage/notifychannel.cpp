#include "notifychannel.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

NotifyChannel::NotifyChannel(const StorageCommon::Target &target, const QString &connectionName,
                             std::function<void()> configChanged)
    : m_target(target), m_name(connectionName), m_configChanged(std::move(configChanged))
{
}

NotifyChannel::~NotifyChannel() = default;

void NotifyChannel::start()
{
    m_retryTimer = new QTimer(this);
    m_retryTimer->setSingleShot(true);
    m_retryTimer->setInterval(kRetryMs);
    connect(m_retryTimer, &QTimer::timeout, this, &NotifyChannel::retry);
    m_probeTimer = new QTimer(this);
    m_probeTimer->setInterval(kProbeIntervalMs);
    connect(m_probeTimer, &QTimer::timeout, this, &NotifyChannel::probe);
    m_probeTimer->start();
    retry();
}

void NotifyChannel::stop()
{
    delete m_retryTimer;
    m_retryTimer = nullptr;
    delete m_probeTimer;
    m_probeTimer = nullptr;
    disconnectBoth();
}

bool NotifyChannel::connectBoth()
{
    QString why;
    if (StorageCommon::openConnection(listenName(), m_target, &why) &&
        StorageCommon::openConnection(notifyName(), m_target, &why)) {
        QSqlDriver *driver = QSqlDatabase::database(listenName(), false).driver();
        if (driver->subscribeToNotification(QLatin1String(kLimiterChannel)) &&
            driver->subscribeToNotification(QLatin1String(kConfigChannel))) {
            connect(driver, &QSqlDriver::notification, this, &NotifyChannel::onNotification);
            m_connected = true;
            m_warned = false;
            return true;
        }
        why = driver->lastError().text();
    }
    if (!m_warned)
        qCWarning(lcStorage).noquote()
            << "the other replicas' news are not heard until the database is back:" << why;
    m_warned = true;
    disconnectBoth();
    return false;
}

void NotifyChannel::disconnectBoth()
{
    for (const QString &name : {listenName(), notifyName()}) {
        if (QSqlDatabase::contains(name))
            StorageCommon::closeConnection(name);
    }
    m_connected = false;
}

void NotifyChannel::retry()
{
    if (m_connected || !m_retryTimer)
        return;
    if (connectBoth()) {
        if (m_configChanged)
            m_configChanged(); // an edit may have been missed while away
    } else {
        m_retryTimer->start();
    }
}

void NotifyChannel::probe()
{
    if (!m_connected)
        return;
    QSqlQuery query(QSqlDatabase::database(notifyName(), false));
    if (query.exec(QStringLiteral("SELECT 1")) && query.next())
        return;
    query.finish();
    disconnectBoth();
    m_retryTimer->start();
}

void NotifyChannel::publishLimiterMessage(const QByteArray &message)
{
    QMetaObject::invokeMethod(
        this, [this, message] { send(message); }, Qt::QueuedConnection);
}

void NotifyChannel::send(const QByteArray &message)
{
    if (!m_connected)
        return; // best effort: the others learn it themselves
    QSqlQuery query(QSqlDatabase::database(notifyName(), false));
    query.prepare(QStringLiteral("SELECT pg_notify('%1', ?)").arg(QLatin1String(kLimiterChannel)));
    query.bindValue(0, QString::fromUtf8(message));
    if (query.exec())
        return;
    qCDebug(lcStorage) << "rate-limit message not sent:" << query.lastError().text();
    query.finish();
    disconnectBoth();
    m_retryTimer->start();
}

void NotifyChannel::setLimiterReceiver(QObject *context, std::function<void(const QByteArray &)> receiver)
{
    QMutexLocker lock(&m_mutex);
    m_receiverContext = context;
    m_receiver = context ? std::move(receiver) : std::function<void(const QByteArray &)>();
}

void NotifyChannel::onNotification(const QString &name, QSqlDriver::NotificationSource,
                                   const QVariant &payload)
{
    // Our own NOTIFYs come from the other connection, so they arrive as another session's: the config's
    // version and LimiterSharing's sender id tell them apart.
    if (name == QLatin1String(kConfigChannel)) {
        if (m_configChanged)
            m_configChanged();
        return;
    }
    if (name != QLatin1String(kLimiterChannel))
        return;
    QMutexLocker lock(&m_mutex);
    if (!m_receiverContext || !m_receiver)
        return;
    QMetaObject::invokeMethod(
        m_receiverContext.data(),
        [receiver = m_receiver, message = payload.toString().toUtf8()] { receiver(message); },
        Qt::QueuedConnection);
}
