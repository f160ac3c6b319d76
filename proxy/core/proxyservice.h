#pragma once

#include "clock.h"
#include "config.h"
#include "enginerequest.h"
#include "eventlog.h"
#include "ratelimittracker.h"
#include "requestqueue.h"
#include "requestrecord.h"
#include "statssource.h"
#include "upstreampool.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

class EngineSink;
class ChainTester;
class ProviderModels;

// The outcome of an admin operation. status is HTTP-like (200 done; 400 invalid; 404 unknown; 409 refused;
// 500 could not be saved); error says why, for the user; message is the success text (it names settings that
// only take effect after a restart).
struct AdminResult
{
    int status = 200;
    QString error;
    QString message;

    bool ok() const { return status < 300; }
};

// The one core API every face uses (HTTP routes, tray, web UI, tests): holds the running config, the limiter
// and the upstream pool, serves chat requests, changes the config (validated, saved atomically, applied live)
// and keeps the event log. Lives on the engine thread: other threads use queued calls and the signals.
//
// Two views of the config: config() is what runs; fileConfig() is what the file says (or will say after the
// next write). They differ only in settings that cannot change while running (the key table's restart-only
// ones: port, host, logLevel, dbPath, maxRequestBytes, logRetentionDays): those keep the values the service
// started with, which may come from PORT/HOST/LOG_LEVEL or --port/--host. Admin operations edit fileConfig()
// and never write those overrides.
class ProxyService : public QObject
{
    Q_OBJECT

public:
    struct ModelEntry
    {
        QString id;
        QString ownedBy;
        bool isChain = false;
    };

    // If config.sourcePath is set, the file is read once here: its hash (so ConfigWatcher can tell the
    // service's own writes) and its values of the restart-only settings (so overrides are not written back).
    ProxyService(const Config &config, const Clock &clock, QObject *parent = nullptr);
    ~ProxyService() override;

    std::shared_ptr<const Config> config() const { return m_config; }
    std::shared_ptr<const Config> fileConfig() const { return m_fileConfig; }
    // Replaces the running config as it is (no validation, nothing written); it is also taken as the file's.
    void setConfig(const Config &config);
    RateLimitTracker &tracker() { return m_tracker; }
    // Queue mode's waiting requests (settings queueMode, queueMaxWaitMs, queueMaxSize).
    RequestQueue &queue() { return m_queue; }
    const Clock &clock() const { return m_clock; }
    EventLog &events() { return m_events; }

    // Serves one validated request (made by a client protocol adapter) into `sink`: ownership passes to the
    // request's Waterfall, which ends by itself. While paused, the sink gets a 503 "proxy_paused" at once
    // (recorded like any answer).
    void startRequest(EngineRequest request, EngineSink *sink);
    // Pause (the tray's "Pause proxy"): new chat requests are refused with 503 "proxy_paused" until resumed;
    // running and queued ones go on. Everything else (models, admin, stats) keeps answering.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    int activeRequests() const { return m_active; }
    // Ends every running request now (shutdown), each answered cleanly and recorded (requestFinished):
    // before its answer began a 503 with code "shutting_down", after it an error event with that code.
    void abortAll(const QString &reason);

    // The request log's read side (chain_storage), if one is attached; not owned.
    void setStatsSource(StatsSource *stats) { m_stats = stats; }
    StatsSource *stats() const { return m_stats; }

    // What /v1/models lists: chain names first, then every entry's model once.
    QList<ModelEntry> models() const;
    qint64 uptimeMs() const;

    // Admin operations. Each validates the changed config with the file's rules before anything changes; on
    // success writes it to config()->sourcePath (when there is one; a failed write changes nothing), applies
    // it live (a new chain routes at once), appends a config_changed event and emits configChanged().
    // keepExistingKey: an empty apiKey keeps the stored key of that provider (a PUT without apiKey).
    AdminResult upsertProvider(ProviderConfig provider, bool keepExistingKey);
    AdminResult deleteProvider(const QString &id);                   // 404, 409 while a chain uses it
    AdminResult upsertChain(const ChainConfig &chain);               // 400 on unknown providers
    AdminResult deleteChain(const QString &name);                    // 404, 409 for the default chain
    AdminResult renameChain(const QString &from, const QString &to); // keeps order and the default
    // The whole settings. A restart-only setting equal to the running value while the file has another (an
    // override echoed back) keeps the file's value.
    AdminResult updateSettings(const Settings &settings);
    // Re-reads config()->sourcePath. A bad file keeps the running config: 400 with the loader's messages and
    // a config_rejected event; a good one: config_reloaded.
    AdminResult reloadFromDisk();

    // SHA-256 of the config file as last loaded or written by this service (empty without a file).
    QByteArray configFileHash() const { return m_fileHash; }

    // Jobs for the UIs on the service's own upstream pool ("test whole chain", "fetch models"). The service
    // owns them; connect to their finished() signal, read the results, then deleteLater() them. Not started
    // yet. nullptr when the chain or provider does not exist.
    ChainTester *createChainTest(const QString &chainName, const QString &prompt);
    ProviderModels *createModelFetch(const QString &providerId);

signals:
    void requestFinished(const RequestRecord &record);
    // The config changed (admin operation or reload); config() has the new one.
    void configChanged();
    // A request found every entry of `chain` unusable (every time; the event log gets one a minute).
    void chainExhausted(const QString &chain, qint64 retryAfterSeconds);
    // A request was served by a chain that had been exhausted.
    void chainRecovered(const QString &chain);
    void pausedChanged(bool paused);

private:
    AdminResult commit(Config next, const QString &what);
    void applyFileConfig(const Config &fileConfig);
    void applyToTracker(const Config &config);
    Config withRestartSettings(Config fileConfig) const;
    QString restartNote(const Settings &before, const Settings &after) const;
    void onCooldownStarted(const QString &provider, const QString &model, qint64 untilMs,
                           const QString &reason);
    void onCooldownEnded(const QString &provider, const QString &model);
    // Wakes the queue of every chain with an entry of `provider` (`model` empty or a pool name: any model).
    void notifyQueue(const QString &provider, const QString &model);
    void onChainExhausted(const QString &chain, qint64 retryAfterSeconds);
    void onRequestFinished(const RequestRecord &record);
    QString formatTime(qint64 ms) const;

    std::shared_ptr<const Config> m_config;
    std::shared_ptr<const Config> m_fileConfig;
    Settings m_startSettings; // restart-only settings in force
    QByteArray m_fileHash;
    const Clock &m_clock;
    RateLimitTracker m_tracker;
    UpstreamPool m_pool;
    RequestQueue m_queue;
    EventLog m_events;
    QTimer m_sweepTimer;
    int m_active = 0;
    StatsSource *m_stats = nullptr;
    qint64 m_startedAtMs;
    QHash<QString, qint64> m_exhaustedEventMs; // chain -> time of its last chain_exhausted event
    QSet<QString> m_exhaustedChains;
    bool m_paused = false;
};
