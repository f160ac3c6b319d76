#include "engine.h"

#include "apiserver.h"
#include "clock.h"
#include "configsharing.h"
#include "configwatcher.h"
#include "limiterpersistence.h"
#include "limitersharing.h"
#include "proxyservice.h"
#include "requeststore.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QSysInfo>
#include <QTimer>

#include <memory>

Q_LOGGING_CATEGORY(lcEngine, "chain.engine")

namespace {
constexpr int kFlushMs = 50; // after ending the running requests, for their answers to leave

QHostAddress bindAddress(const QString &host)
{
    if (host == QLatin1String("localhost"))
        return QHostAddress(QHostAddress::LocalHost);
    if (host == QLatin1String("0.0.0.0"))
        return QHostAddress(QHostAddress::AnyIPv4);
    if (host == QLatin1String("::"))
        return QHostAddress(QHostAddress::Any);
    return QHostAddress(host);
}
} // namespace

Engine::Engine(const Config &config, QObject *parent) : QObject(parent), m_config(config)
{
    m_thread.setObjectName(QStringLiteral("engine"));
}

Engine::~Engine()
{
    if (m_thread.isRunning()) {
        if (m_context)
            QMetaObject::invokeMethod(
                m_context, [this] { closeStore(); }, Qt::BlockingQueuedConnection);
        if (m_context)
            m_context->deleteLater();
        m_thread.quit();
        m_thread.wait();
    }
    delete m_clock;
}

bool Engine::start(QString *error)
{
    m_thread.start();
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    bool ok = false;
    QString err;
    QMetaObject::invokeMethod(
        m_context,
        [&] {
            m_clock = new SystemClock;
            m_service = new ProxyService(m_config, *m_clock, m_context);
            openStore();
            if (!m_config.sourcePath.isEmpty())
                new ConfigWatcher(*m_service, m_context); // live reload of the file
            m_server = new ApiServer(*m_service, m_context);
            connect(m_service, &ProxyService::requestFinished, m_context, [](const RequestRecord &r) {
                qCInfo(lcEngine).noquote()
                    << QStringLiteral("%1 %2 → %3/%4 status %5 in %6 ms, %7 attempt(s), %8 tokens%9")
                           .arg(r.stream ? QStringLiteral("stream") : QStringLiteral("chat"), r.chain,
                                r.provider, r.model)
                           .arg(r.status)
                           .arg(r.latencyMs)
                           .arg(r.attempts.size())
                           .arg(r.totalTokens)
                           .arg(r.tokensEstimated ? QStringLiteral(" (estimated)") : QString());
            });
            ok = m_server->listen(bindAddress(m_config.settings.host), quint16(m_config.settings.port), &err);
            m_port = m_server->port();
            if (ok && m_store)
                m_store->setReplica(replicaName());
            if (ok && m_limiterSharing)
                m_limiterSharing->setReplica(replicaName());
        },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        if (error)
            *error = err;
        shutdown(0);
        m_thread.wait();
    }
    return ok;
}

StatsSource *Engine::stats() const
{
    return m_store;
}

void Engine::openStore()
{
    RequestStore::Options options;
    options.path = m_config.settings.dbPath;
    options.storage = m_config.settings.storage;
    options.replica = replicaName();
    options.retentionDays = m_config.settings.logRetentionDays;
    auto *store = new RequestStore(options, *m_clock);
    QString error;
    if (!store->open(&error)) {
        // The proxy still serves; only the request log and the stats are missing, and the log says why.
        qCCritical(lcEngine).noquote() << "request log disabled:" << error;
        delete store;
        return;
    }
    m_store = store;
    const StorageStatus status = m_store->storageStatus();
    qCInfo(lcEngine).noquote() << "request log:" << status.backend << status.location;
    m_service->setStatsSource(m_store);
    connect(m_service, &ProxyService::requestFinished, m_store, &RequestStore::record, Qt::DirectConnection);
    // Before the server listens: the first request already knows which entries the last run found empty.
    m_limiterPersistence = new LimiterPersistence(m_service->tracker(), m_store, *m_clock);
    // Replicas on one PostgreSQL database tell each other what their trackers learn.
    if (m_store->isShared())
        m_limiterSharing = new LimiterSharing(m_service->tracker(), *m_store, replicaName());
    // ... and keep one config: the database's wins over the file, which seeds it when it is empty.
    if (m_store->isShared() && !m_config.sourcePath.isEmpty()) {
        m_configSharing = new ConfigSharing(*m_service, *m_store);
        m_configSharing->start();
    }
}

QString Engine::replicaName() const
{
    // Two replicas on one host differ by their port; before listening the port is the configured one.
    if (!m_config.settings.replicaName.trimmed().isEmpty())
        return m_config.settings.replicaName.trimmed();
    const quint16 port = m_port ? m_port : quint16(m_config.settings.port);
    return QSysInfo::machineHostName() + QLatin1Char(':') + QString::number(port);
}

void Engine::closeStore()
{
    if (!m_store)
        return;
    delete m_configSharing;
    m_configSharing = nullptr;
    delete m_limiterSharing; // before the store it publishes through
    m_limiterSharing = nullptr;
    m_limiterPersistence->flush(); // the tracker as it is now; the store commits it below
    delete m_limiterPersistence;
    m_limiterPersistence = nullptr;
    m_service->setStatsSource(nullptr);
    disconnect(m_service, nullptr, m_store, nullptr);
    delete m_store; // flushes
    m_store = nullptr;
}

void Engine::shutdown(int graceMs)
{
    if (!m_context || !m_thread.isRunning()) {
        emit stopped();
        return;
    }
    // Connected before the engine thread is asked to stop, so a quick stop cannot finish unseen.
    connect(&m_thread, &QThread::finished, this, &Engine::stopped, Qt::UniqueConnection);
    QMetaObject::invokeMethod(m_context, [this, graceMs] {
        m_server->stopListening();
        m_server->setDraining(true); // keep-alive connections get no new work
        QElapsedTimer elapsed;
        elapsed.start();
        auto done = std::make_shared<bool>(false);
        auto finish = [this, done] {
            if (*done)
                return;
            *done = true;
            closeStore();             // everything recorded so far reaches the disk
            m_context->deleteLater(); // service and server go with the thread's last events
            m_context = nullptr;
            m_thread.quit();
        };
        // Finished answers may still sit in socket buffers: stop once they are handed to the network.
        auto *poll = new QTimer(m_context);
        poll->setInterval(10);
        connect(poll, &QTimer::timeout, m_context, [this, poll, elapsed, graceMs, finish] {
            const bool idle = m_service->activeRequests() == 0 && m_server->pendingOutputBytes() == 0;
            if (idle || elapsed.elapsed() >= graceMs) {
                poll->stop();
                if (idle) {
                    finish();
                    return;
                }
                if (const int active = m_service->activeRequests()) {
                    qCWarning(lcEngine)
                        << "grace period over with" << active << "request(s) running: ending them";
                    // Each is answered (503 / error event) and recorded before the store closes.
                    m_service->abortAll(QStringLiteral("The proxy is shutting down; the request was ended."));
                }
                // Let the sockets hand the last answers to the network.
                QTimer::singleShot(kFlushMs, m_context, finish);
            }
        });
        if (const int active = m_service->activeRequests())
            qCInfo(lcEngine) << "waiting up to" << graceMs << "ms for" << active << "running request(s)";
        poll->start();
    });
}
