#pragma once

#include "clock.h"
#include "limiterbus.h"
#include "limiterstatestore.h"
#include "requestrecord.h"
#include "sharedconfigstore.h"
#include "statssource.h"
#include "storagecommon.h"
#include "storageschema.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <functional>
#include <memory>

class NotifyChannel;
class RequestWriter;
class StatsQueries;

// The request log, in the SQLite file settings.dbPath or in the PostgreSQL database of settings.storage
// (shared by several replicas, each row naming the replica that wrote it): one row per client request with
// its attempts, daily usage rollups per provider+model and per chain, retention by age and row count, and the
// StatsSource read side the HTTP stats routes and the GUI use. Writes are queued from any thread and
// committed in batches by a writer thread of its own, so the request path never waits for the disk; reads run
// on the calling thread with a connection of that thread's own (made on first use, removed when the thread
// finishes). The app creates one, open()s it, hands it to ProxyService::setStatsSource and feeds it
// ProxyService::requestFinished; destroying it commits what is queued. It is also the LimiterStateStore
// LimiterPersistence keeps the rate-limit tracker's state in (table limiter_state, written by the same writer
// thread) and, on PostgreSQL, the LimiterBus and SharedConfigStore the replicas talk through (NotifyChannel
// on a bus thread of its own; table chain_config on the writer).
class RequestStore : public QObject,
                     public StatsSource,
                     public LimiterStateStore,
                     public LimiterBus,
                     public SharedConfigStore
{
    Q_OBJECT

public:
    struct Options
    {
        QString path;           // the SQLite file (when storage is not a URL); its folder is created
        QString storage;        // empty/"sqlite", or a postgresql:// URL (StorageUrl)
        QString replica;        // the name written into each row (setReplica changes it)
        int retentionDays = 30; // <= 0: keep rows whatever their age
        qint64 maxRequestRows = 1'000'000; // <= 0: no row cap
        int flushIntervalMs = 250;         // a record waits at most this long before its batch is committed
        int maxBatch = 500;                // records per transaction; a full batch is written at once
        int maxBufferedRows = 100'000;     // queued while the database is away; beyond: dropped, counted
    };

    // See StorageSchema: versions 1 and 2 are the reference's request_logs schema, ours starts at 3; 4 adds
    // limiter_state.
    static constexpr int kSchemaVersion = StorageSchema::kCurrentVersion;

    RequestStore(const Options &options, const Clock &clock, QObject *parent = nullptr);
    ~RequestStore() override; // commits everything queued, then closes: nothing is lost on a clean shutdown

    // Creates the parent folder, opens the file (WAL, synchronous=NORMAL, busy timeout), migrates it and runs
    // retention once. On failure `error` names the path and why. A PostgreSQL server that does not answer
    // is no failure: the store buffers the rows and keeps trying (storageStatus() says so).
    bool open(QString *error);
    bool isOpen() const { return m_open.load(); }
    const Options &options() const { return m_options; }
    int schemaVersion() const { return m_schemaVersion; } // the file's version once open, 0 before
    // Any thread: the replica name of the rows recorded from now on (the app knows its port after listening).
    void setReplica(const QString &replica);

    // Any thread; never waits for the disk. Dropped (and logged once) while the store is not open. A record
    // without startedAtMs gets the clock's now.
    void record(const RequestRecord &record);
    // Blocks until everything queued before the call is committed (or has failed and been logged).
    void flush();
    // Commits the queue, then deletes request rows (and their attempts) older than retentionDays or beyond
    // the newest maxRequestRows. The rollups keep their totals. Also runs by itself at open and at most
    // hourly.
    void runRetention();
    qint64 requestRowCount();

    // StatsSource: see StatsQueries for which table answers what.
    StatsSummary summary() override;
    QList<UsageTotals> providerUsage() override;
    std::optional<UsageTotals> providerUsage(const QString &providerId) override;
    QList<UsageTotals> chainUsage() override;
    std::optional<UsageTotals> chainUsage(const QString &chainName) override;
    QList<StoredRequest> requests(const RequestQuery &query) override;
    std::optional<StoredRequest> request(qint64 id) override;
    QList<TimeseriesPoint> timeseries(bool hourly, qint64 sinceMs) override;
    // On the store's reader thread (one, started on first use; queries run in the order given). The
    // destructor runs every query already handed over before it closes anything.
    void runQuery(std::function<void()> query) override;
    StorageStatus storageStatus() const override;

    // LimiterStateStore. Load blocks on the writer thread (a save not yet written is returned as it is);
    // save hands the state to the writer, which writes the newest with its next flush (and at close). Both
    // do nothing while the store is not open.
    QByteArray loadLimiterState() override;
    void saveLimiterState(const QByteArray &state) override;

    // LimiterBus and SharedConfigStore: shared on PostgreSQL (LISTEN/NOTIFY on the writer's connection), not
    // on SQLite.
    bool isShared() const override { return m_target.isPostgreSql(); }
    void publishLimiterMessage(const QByteArray &message) override;
    void setLimiterReceiver(QObject *context, std::function<void(const QByteArray &)> receiver) override;

    // SharedConfigStore (PostgreSQL; table chain_config).
    std::optional<QByteArray> loadSharedConfig() override;
    bool seedSharedConfig(const QByteArray &yaml) override;
    void saveSharedConfig(const QByteArray &yaml) override;
    void setSharedConfigReceiver(QObject *context, std::function<void(const QByteArray &)> receiver) override;

private:
    struct Reader
    {
        QString connectionName;
        QMetaObject::Connection threadFinished;
    };

    template<typename Function> void runOnWriter(Function function);
    QString readerConnection(); // the calling thread's connection, made on first use; empty when unavailable
    void dropReader(QThread *thread);
    // A read that failed on PostgreSQL may have lost its connection: the next read opens a new one.
    template<typename T> T read(T fallback, const std::function<T(StatsQueries &)> &query);

    const Options m_options;
    const Clock &m_clock;
    const quint64 m_id;
    QString m_targetError; // a storage URL that does not parse
    StorageCommon::Target m_target;
    QThread m_thread;
    QThread m_readThread;             // runQuery's thread, with its own reader connection
    QObject *m_readContext = nullptr; // lives on m_readThread
    QMutex m_readStartMutex;
    std::unique_ptr<RequestWriter> m_writer;
    QThread m_busThread;                      // PostgreSQL: the replicas' messages (NotifyChannel)
    std::unique_ptr<NotifyChannel> m_channel; // lives on m_busThread
    std::atomic<bool> m_open{false};
    std::atomic<bool> m_warnedNotOpen{false};
    int m_schemaVersion = 0;
    QMutex m_readersMutex;
    QHash<QThread *, Reader> m_readers;
};
