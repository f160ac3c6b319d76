#pragma once

#include "config.h"

#include <QObject>
#include <QThread>

class ApiServer;
class ConfigSharing;
class LimiterPersistence;
class LimiterSharing;
class RequestStore;
class ProxyService;
class StatsSource;
class SystemClock;

// Runs the proxy (ProxyService + ApiServer) on its own thread with its own event loop, so nothing on the main
// thread (a window, the demo providers) ever delays a token. Start and shutdown are called from the main
// thread.
class Engine : public QObject
{
    Q_OBJECT

public:
    explicit Engine(const Config &config, QObject *parent = nullptr);
    ~Engine() override;

    // Starts the thread and listens; blocks until listening succeeded or failed.
    bool start(QString *error);
    quint16 port() const { return m_port; }
    // For the desktop GUI's ServiceBridge, after start(): the service (lives on the engine thread) and the
    // request log's read side (null when the log could not be opened). Valid until shutdown.
    ProxyService *service() const { return m_service; }
    StatsSource *stats() const;
    // Stops accepting, lets running requests finish for up to `graceMs`, then stops the thread; emits
    // stopped().
    void shutdown(int graceMs);

signals:
    void stopped();

private:
    void openStore();            // engine thread
    void closeStore();           // engine thread
    QString replicaName() const; // settings.replicaName, else "<host name>:<port>"

    Config m_config;
    QThread m_thread;
    QObject *m_context = nullptr; // lives on the engine thread; owns the clock, service and server
    SystemClock *m_clock = nullptr;
    ProxyService *m_service = nullptr;
    ApiServer *m_server = nullptr;
    RequestStore *m_store = nullptr; // the request log; null when it could not be opened
    // Keeps the tracker's state in m_store; null with it.
    LimiterPersistence *m_limiterPersistence = nullptr;
    LimiterSharing *m_limiterSharing = nullptr; // with a shared (PostgreSQL) store only
    ConfigSharing *m_configSharing = nullptr;   // the same, when the config has a file
    quint16 m_port = 0;
};
