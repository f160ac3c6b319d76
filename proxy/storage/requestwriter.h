#pragma once

#include "clock.h"
#include "requestrecord.h"
#include "statssource.h"
#include "storagecommon.h"

#include <QList>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <optional>

#include <memory>

class QTimer;
class RequestBatch;

// The request log's writer. Lives on RequestStore's writer thread and owns that thread's connection: queued
// records are written in batches (RequestBatch), one transaction each. It also runs retention and keeps the
// rate-limit tracker's saved state (limiter_state): a save waits in a one-slot mailbox, the newest replacing
// an older one, and is written with the next flush.
//
// A database that goes away (a PostgreSQL server stopped or unreachable; told from a bad batch by a probe
// query that fails too) does not lose rows: the batch goes back to the head of the queue, the writer closes
// the connection and reconnects with a growing delay (kRetryMinMs … kRetryMaxMs), and writes everything
// queued once it is back. The queue is bounded (maxPending): records beyond it are dropped and counted
// (status().lostRows). A PostgreSQL server down at start is the same case: open() succeeds and the writer
// keeps trying. enqueue(), setLimiterState(), setReplica(), status(), saveSharedConfig() and
// setSharedConfigReceiver() are the only members other threads may call; RequestStore calls the rest on the
// writer thread (blocking or queued invocations).
class RequestWriter : public QObject
{
    Q_OBJECT

public:
    static constexpr int kRetryMinMs = 200;
    static constexpr int kRetryMaxMs = 5000;
    static constexpr int kProbeIntervalMs = 5000;

    struct Settings
    {
        StorageCommon::Target target;
        QString connectionName;
        QString replica;
        int retentionDays = 30;
        qint64 maxRequestRows = 1'000'000;
        int flushIntervalMs = 250;
        int maxBatch = 500;
        int maxPending = 100'000; // beyond this (a disk or database that stays away) new records are dropped
    };

    RequestWriter(const Settings &settings, const Clock &clock);
    ~RequestWriter() override;

    // Any thread: queues one record and wakes the writer when the queue starts or a batch is full.
    void enqueue(RequestRecord record, qint64 nowMs);
    // Any thread: replaces the state waiting to be written (only the newest is written) and wakes the writer.
    void setLimiterState(const QByteArray &state, qint64 nowMs);
    // Any thread: the replica name given to the records queued from now on.
    void setReplica(const QString &replica);
    // Any thread.
    StorageStatus status() const;
    // The shared config (table chain_config, PostgreSQL): load and seed block on the writer thread; a save
    // waits in a one-slot mailbox (kept while the database is away) and is written with a NOTIFY on
    // NotifyChannel::kConfigChannel; fetchSharedConfig (the channel heard a NOTIFY) hands a version newer
    // than the last seen to the receiver.
    std::optional<QByteArray> loadSharedConfig();  // writer thread
    void fetchSharedConfig();                      // writer thread
    bool seedSharedConfig(const QByteArray &yaml); // writer thread
    void saveSharedConfig(const QByteArray &yaml); // any thread
    void setSharedConfigReceiver(QObject *context, std::function<void(const QByteArray &)> receiver);

    // Writer thread only.
    bool open(qint64 nowMs, QString *error); // connects, migrates, first retention, starts the timers
    void close();                            // writes what is queued (if it can), then closes the connection
    void writePending();                     // drains the queue, maxBatch records per transaction, and
                                             // writes the waiting limiter state
    QByteArray loadLimiterState();           // the waiting state if any, else the saved one; empty if none
    void runRetention(qint64 nowMs);
    int schemaVersion() const { return m_schemaVersion; }

private:
    bool connectToDatabase(QString *error); // opens the connection and migrates
    void disconnectFromDatabase();
    void wentAway(const QString &reason); // the connection is lost: close it and retry later
    void retry();
    bool connectionAlive();
    void requeue(QList<RequestRecord> records);
    void wake();
    void writeLimiterState(const QByteArray &state, qint64 savedAtMs);
    void maybeRunRetention(qint64 nowMs);
    void writeSharedConfig();

    const Settings m_settings;
    const Clock &m_clock;
    mutable QMutex m_mutex; // guards m_pending, m_latestQueuedMs, m_lost, the limiter mailbox, m_replica and
                            // the status fields
    QList<RequestRecord> m_pending;
    qint64 m_latestQueuedMs = 0;
    qint64 m_lost = 0;
    bool m_limiterPending = false;
    QByteArray m_limiterState;
    qint64 m_limiterSavedAtMs = 0;
    QString m_replica;
    QPointer<QObject> m_configContext;
    std::function<void(const QByteArray &)> m_configReceiver;
    bool m_configPending = false;
    QByteArray m_configYaml;
    bool m_available = false;
    QString m_reason;
    qint64 m_downSinceMs = 0;

    bool m_open = false;
    bool m_connected = false;
    int m_schemaVersion = 0;
    int m_retryMs = kRetryMinMs;
    qint64 m_configVersion = 0; // of the shared config, last written or fetched
    qint64 m_lastRetentionMs = 0;
    std::unique_ptr<RequestBatch> m_batch; // the connection's prepared statements
    QTimer *m_flushTimer = nullptr;
    QTimer *m_retentionTimer = nullptr;
    QTimer *m_retryTimer = nullptr;
    QTimer *m_probeTimer = nullptr;
};
