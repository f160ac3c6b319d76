#include "requestwriter.h"

#include "notifychannel.h"
#include "requestbatch.h"
#include "sqldialect.h"
#include "storageschema.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

#include <utility>

using StorageCommon::bindAll;

RequestWriter::RequestWriter(const Settings &settings, const Clock &clock)
    : m_settings(settings), m_clock(clock), m_replica(settings.replica)
{
}

RequestWriter::~RequestWriter() = default;

void RequestWriter::enqueue(RequestRecord record, qint64 nowMs)
{
    bool wakeUp = false;
    {
        QMutexLocker lock(&m_mutex);
        if (m_pending.size() >= m_settings.maxPending) {
            // Logged at 1, 2, 4, 8, … drops so a stuck disk cannot flood the log.
            ++m_lost;
            if ((m_lost & (m_lost - 1)) == 0)
                qCWarning(lcStorage) << "request log queue full:" << m_lost << "records dropped so far";
            return;
        }
        if (record.replica.isEmpty())
            record.replica = m_replica;
        m_pending.append(std::move(record));
        m_latestQueuedMs = qMax(m_latestQueuedMs, nowMs);
        wakeUp = m_pending.size() == 1 || m_pending.size() % m_settings.maxBatch == 0;
    }
    if (wakeUp)
        QMetaObject::invokeMethod(
            this, [this] { wake(); }, Qt::QueuedConnection);
}

void RequestWriter::setLimiterState(const QByteArray &state, qint64 nowMs)
{
    bool wakeUp = false;
    {
        QMutexLocker lock(&m_mutex);
        wakeUp = !m_limiterPending;
        m_limiterPending = true;
        m_limiterState = state;
        m_limiterSavedAtMs = nowMs;
    }
    if (wakeUp)
        QMetaObject::invokeMethod(
            this, [this] { wake(); }, Qt::QueuedConnection);
}

void RequestWriter::setReplica(const QString &replica)
{
    QMutexLocker lock(&m_mutex);
    m_replica = replica;
}

StorageStatus RequestWriter::status() const
{
    StorageStatus out;
    out.backend = m_settings.target.isPostgreSql() ? QStringLiteral("postgresql") : QStringLiteral("sqlite");
    out.location = m_settings.target.describe();
    QMutexLocker lock(&m_mutex);
    out.replica = m_replica;
    out.available = m_available;
    out.reason = m_reason;
    out.bufferedRows = m_pending.size();
    out.lostRows = m_lost;
    out.downSinceMs = m_available ? 0 : m_downSinceMs;
    return out;
}

void RequestWriter::wake()
{
    if (!m_open || !m_connected)
        return; // the retry writes the queue once the database is back
    qsizetype pending;
    bool limiterPending;
    {
        QMutexLocker lock(&m_mutex);
        pending = m_pending.size();
        limiterPending = m_limiterPending;
    }
    if (pending >= m_settings.maxBatch)
        writePending();
    else if ((pending > 0 || limiterPending) && !m_flushTimer->isActive())
        m_flushTimer->start();
}

bool RequestWriter::connectToDatabase(QString *error)
{
    if (!StorageCommon::openConnection(m_settings.connectionName, m_settings.target, error))
        return false;
    QString why;
    {
        QSqlDatabase db = QSqlDatabase::database(m_settings.connectionName, false);
        if (!m_settings.target.isPostgreSql()) {
            QSqlQuery query(db);
            if (query.exec(QStringLiteral("PRAGMA journal_mode=WAL")) && query.next()) {
                const QString mode = query.value(0).toString();
                if (mode.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
                    qCWarning(lcStorage) << "request log" << m_settings.target.path << "runs in journal mode"
                                         << mode << "(WAL refused)";
            } else {
                why = query.lastError().text();
            }
        }
        if (why.isEmpty() && StorageSchema::migrate(db, &why))
            m_schemaVersion = StorageSchema::version(db);
    }
    if (!why.isEmpty()) {
        StorageCommon::closeConnection(m_settings.connectionName);
        *error = QStringLiteral("cannot open the request log %1: %2").arg(m_settings.target.describe(), why);
        return false;
    }
    m_batch = std::make_unique<RequestBatch>(QSqlDatabase::database(m_settings.connectionName, false));
    m_connected = true;
    m_retryMs = kRetryMinMs;
    QMutexLocker lock(&m_mutex);
    m_available = true;
    m_reason.clear();
    m_downSinceMs = 0;
    return true;
}

void RequestWriter::disconnectFromDatabase()
{
    m_batch.reset(); // before the connection its statements belong to
    if (m_connected || QSqlDatabase::contains(m_settings.connectionName))
        StorageCommon::closeConnection(m_settings.connectionName);
    m_connected = false;
}

bool RequestWriter::open(qint64 nowMs, QString *error)
{
    if (m_open)
        return true;
    QString why;
    if (!connectToDatabase(&why)) {
        // A file that cannot be opened is a configuration problem; a database server that does not answer
        // may be starting too (or be restarting): serve, buffer the rows and keep trying.
        if (!m_settings.target.isPostgreSql() || why.contains(QLatin1String("newer than this build"))) {
            *error = why;
            return false;
        }
    }
    m_open = true;
    m_flushTimer = new QTimer(this);
    m_flushTimer->setSingleShot(true);
    m_flushTimer->setInterval(qMax(0, m_settings.flushIntervalMs));
    QObject::connect(m_flushTimer, &QTimer::timeout, this, &RequestWriter::writePending);
    m_retentionTimer = new QTimer(this);
    m_retentionTimer->setInterval(int(StorageCommon::kHourMs));
    QObject::connect(m_retentionTimer, &QTimer::timeout, this,
                     [this] { maybeRunRetention(m_clock.nowMs()); });
    m_retentionTimer->start();
    if (m_settings.target.isPostgreSql()) {
        // An idle replica writes nothing, so nothing would notice a server restart: a probe now and then
        // does, and /health says so.
        m_probeTimer = new QTimer(this);
        m_probeTimer->setInterval(kProbeIntervalMs);
        QObject::connect(m_probeTimer, &QTimer::timeout, this, [this] {
            if (m_connected && !connectionAlive())
                wentAway(QStringLiteral("the connection was lost"));
        });
        m_probeTimer->start();
    }
    m_retryTimer = new QTimer(this);
    m_retryTimer->setSingleShot(true);
    QObject::connect(m_retryTimer, &QTimer::timeout, this, &RequestWriter::retry);
    if (m_connected)
        runRetention(nowMs);
    else
        wentAway(why);
    return true;
}

void RequestWriter::close()
{
    if (!m_open)
        return;
    writePending();
    if (!m_connected) {
        QMutexLocker lock(&m_mutex);
        if (!m_pending.isEmpty())
            qCWarning(lcStorage).noquote()
                << "request log" << m_settings.target.describe()
                << "is unreachable at shutdown:" << m_pending.size() << "buffered records are lost";
    }
    delete m_flushTimer;
    m_flushTimer = nullptr;
    delete m_retentionTimer;
    m_retentionTimer = nullptr;
    delete m_retryTimer;
    m_retryTimer = nullptr;
    delete m_probeTimer;
    m_probeTimer = nullptr;
    m_open = false;
    disconnectFromDatabase();
}

void RequestWriter::wentAway(const QString &reason)
{
    const bool wasConnected = m_connected;
    disconnectFromDatabase();
    {
        QMutexLocker lock(&m_mutex);
        if (m_available || m_downSinceMs == 0)
            m_downSinceMs = m_clock.nowMs();
        m_available = false;
        m_reason = reason;
    }
    if (wasConnected || m_retryMs == kRetryMinMs)
        qCWarning(lcStorage).noquote() << "request log" << m_settings.target.describe()
                                       << "unavailable, buffering rows and retrying:" << reason;
    m_retryTimer->start(m_retryMs);
    m_retryMs = qMin(kRetryMaxMs, m_retryMs * 2);
}

void RequestWriter::retry()
{
    if (!m_open || m_connected)
        return;
    QString why;
    if (!connectToDatabase(&why)) {
        wentAway(why);
        return;
    }
    qsizetype buffered;
    {
        QMutexLocker lock(&m_mutex);
        buffered = m_pending.size();
    }
    qCInfo(lcStorage).noquote() << "request log" << m_settings.target.describe() << "is back: writing"
                                << buffered << "buffered records";
    if (m_settings.target.isPostgreSql())
        fetchSharedConfig(); // an edit another replica made meanwhile
    writePending();
}

std::optional<QByteArray> RequestWriter::loadSharedConfig()
{
    if (!m_open || !m_connected)
        return std::nullopt;
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    if (!query.exec(QStringLiteral("SELECT version, yaml FROM chain_config WHERE id = 1"))) {
        qCWarning(lcStorage).noquote() << "reading the shared config failed:" << query.lastError().text();
        return std::nullopt;
    }
    if (!query.next())
        return std::nullopt;
    m_configVersion = query.value(0).toLongLong();
    return query.value(1).toString().toUtf8();
}

bool RequestWriter::seedSharedConfig(const QByteArray &yaml)
{
    if (!m_open || !m_connected)
        return false;
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    query.prepare(QStringLiteral("INSERT INTO chain_config (id, version, yaml, updated_at_ms, updated_by) "
                                 "VALUES (1, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING"));
    QString replica;
    {
        QMutexLocker lock(&m_mutex);
        replica = m_replica;
    }
    bindAll(query,
            {QString::fromUtf8(yaml), m_clock.nowMs(), replica.isNull() ? QStringLiteral("") : replica});
    if (!query.exec()) {
        qCWarning(lcStorage).noquote() << "seeding the shared config failed:" << query.lastError().text();
        return false;
    }
    return query.numRowsAffected() > 0;
}

void RequestWriter::saveSharedConfig(const QByteArray &yaml)
{
    {
        QMutexLocker lock(&m_mutex);
        m_configPending = true;
        m_configYaml = yaml;
    }
    QMetaObject::invokeMethod(
        this, [this] { writeSharedConfig(); }, Qt::QueuedConnection);
}

void RequestWriter::setSharedConfigReceiver(QObject *context,
                                            std::function<void(const QByteArray &)> receiver)
{
    QMutexLocker lock(&m_mutex);
    m_configContext = context;
    m_configReceiver = context ? std::move(receiver) : std::function<void(const QByteArray &)>();
}

void RequestWriter::writeSharedConfig()
{
    if (!m_open || !m_connected || !m_settings.target.isPostgreSql())
        return; // kept: written when the database is back
    QByteArray yaml;
    QString replica;
    {
        QMutexLocker lock(&m_mutex);
        if (!m_configPending)
            return;
        m_configPending = false;
        yaml = std::exchange(m_configYaml, QByteArray());
        replica = m_replica;
    }
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    query.prepare(QStringLiteral("INSERT INTO chain_config (id, version, yaml, updated_at_ms, updated_by) "
                                 "VALUES (1, 1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                 "version = chain_config.version + 1, yaml = excluded.yaml, "
                                 "updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by "
                                 "RETURNING version"));
    bindAll(query,
            {QString::fromUtf8(yaml), m_clock.nowMs(), replica.isNull() ? QStringLiteral("") : replica});
    if (!query.exec() || !query.next()) {
        qCWarning(lcStorage).noquote() << "saving the shared config failed:" << query.lastError().text();
        QMutexLocker lock(&m_mutex);
        if (!m_configPending) {
            m_configPending = true;
            m_configYaml = yaml;
        }
        return;
    }
    m_configVersion = query.value(0).toLongLong();
    query.finish();
    QSqlQuery notify(QSqlDatabase::database(m_settings.connectionName, false));
    notify.exec(QStringLiteral("SELECT pg_notify('%1', '%2')")
                    .arg(QLatin1String(NotifyChannel::kConfigChannel))
                    .arg(m_configVersion));
    qCInfo(lcStorage) << "shared config saved as version" << m_configVersion;
}

void RequestWriter::fetchSharedConfig()
{
    const qint64 known = m_configVersion;
    const std::optional<QByteArray> yaml = loadSharedConfig();
    if (!yaml || m_configVersion <= known)
        return;
    QMutexLocker lock(&m_mutex);
    if (!m_configContext || !m_configReceiver)
        return;
    QMetaObject::invokeMethod(
        m_configContext.data(), [receiver = m_configReceiver, yaml = *yaml] { receiver(yaml); },
        Qt::QueuedConnection);
}

bool RequestWriter::connectionAlive()
{
    QSqlQuery probe(QSqlDatabase::database(m_settings.connectionName, false));
    return probe.exec(QStringLiteral("SELECT 1")) && probe.next();
}

void RequestWriter::requeue(QList<RequestRecord> records)
{
    QMutexLocker lock(&m_mutex);
    records.append(std::move(m_pending));
    m_pending = std::move(records);
}

void RequestWriter::writePending()
{
    if (!m_open || !m_connected)
        return;
    m_flushTimer->stop();
    QList<RequestRecord> pending;
    qint64 latestMs;
    bool limiterPending;
    QByteArray limiterState;
    qint64 limiterSavedAtMs;
    {
        QMutexLocker lock(&m_mutex);
        pending.swap(m_pending);
        latestMs = m_latestQueuedMs;
        limiterPending = std::exchange(m_limiterPending, false);
        limiterState = std::exchange(m_limiterState, QByteArray());
        limiterSavedAtMs = m_limiterSavedAtMs;
    }
    if (limiterPending)
        writeLimiterState(limiterState, limiterSavedAtMs);
    writeSharedConfig();
    const qsizetype batchSize = qMax(1, m_settings.maxBatch);
    for (qsizetype from = 0; from < pending.size() && m_connected; from += batchSize) {
        const QList<RequestRecord> batch = pending.mid(from, batchSize);
        QString why;
        if (m_batch->write(batch, &why))
            continue;
        if (!connectionAlive()) {
            // Not this batch's fault: keep it and the rest for when the database is back.
            requeue(pending.mid(from));
            wentAway(why);
            return;
        }
        {
            QMutexLocker lock(&m_mutex);
            m_lost += batch.size();
        }
        qCWarning(lcStorage).noquote()
            << "request log: writing" << batch.size() << "records failed, they are dropped:" << why;
    }
    if (!pending.isEmpty())
        maybeRunRetention(latestMs);
}

void RequestWriter::writeLimiterState(const QByteArray &state, qint64 savedAtMs)
{
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    query.prepare(QStringLiteral("INSERT INTO limiter_state (id, saved_at_ms, state) VALUES (1, ?, ?) "
                                 "ON CONFLICT (id) DO UPDATE SET saved_at_ms = excluded.saved_at_ms, "
                                 "state = excluded.state"));
    bindAll(query, {savedAtMs, state});
    if (query.exec())
        return;
    qCWarning(lcStorage).noquote() << "saving the rate-limit state failed:" << query.lastError().text();
    // Kept for the next try unless a newer one is already waiting.
    QMutexLocker lock(&m_mutex);
    if (!m_limiterPending) {
        m_limiterPending = true;
        m_limiterState = state;
        m_limiterSavedAtMs = savedAtMs;
    }
}

QByteArray RequestWriter::loadLimiterState()
{
    {
        QMutexLocker lock(&m_mutex);
        if (m_limiterPending)
            return m_limiterState;
    }
    if (!m_open || !m_connected)
        return {};
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    if (!query.exec(QStringLiteral("SELECT state FROM limiter_state WHERE id = 1"))) {
        qCWarning(lcStorage).noquote() << "reading the rate-limit state failed:" << query.lastError().text();
        return {};
    }
    return query.next() ? query.value(0).toByteArray() : QByteArray();
}

void RequestWriter::maybeRunRetention(qint64 nowMs)
{
    if (m_open && nowMs - m_lastRetentionMs >= StorageCommon::kHourMs)
        runRetention(nowMs);
}

void RequestWriter::runRetention(qint64 nowMs)
{
    if (!m_open || !m_connected)
        return;
    m_lastRetentionMs = nowMs;
    QSqlDatabase db = QSqlDatabase::database(m_settings.connectionName, false);
    if (!db.transaction()) {
        qCWarning(lcStorage) << "request log retention: cannot start a transaction:" << db.lastError().text();
        return;
    }
    // Replicas sharing a database take turns: the one that finds the lock taken skips this round.
    if (!SqlDialect::of(db).tryTransactionLock(db, SqlDialect::kRetentionLock)) {
        db.rollback();
        qCDebug(lcStorage) << "request log retention: another replica is running it";
        return;
    }
    QString why;
    qint64 deleted = 0;
    {
        QSqlQuery query(db);
        auto run = [&](const QString &sql, qint64 value, bool count) {
            if (!why.isEmpty())
                return;
            query.prepare(sql);
            query.bindValue(0, value);
            if (!query.exec())
                why = query.lastError().text();
            else if (count)
                deleted += query.numRowsAffected();
        };
        if (m_settings.retentionDays > 0) {
            const qint64 cutoff = nowMs - qint64(m_settings.retentionDays) * StorageCommon::kDayMs;
            run(QStringLiteral("DELETE FROM attempts WHERE request_id IN "
                               "(SELECT id FROM requests WHERE started_at_ms < ?)"),
                cutoff, false);
            run(QStringLiteral("DELETE FROM requests WHERE started_at_ms < ?"), cutoff, true);
        }
        if (m_settings.maxRequestRows > 0 && why.isEmpty()) {
            // The oldest id to keep: everything below it goes.
            query.prepare(QStringLiteral("SELECT id FROM requests ORDER BY id DESC LIMIT 1 OFFSET ?"));
            query.bindValue(0, m_settings.maxRequestRows - 1);
            if (!query.exec()) {
                why = query.lastError().text();
            } else if (query.next()) {
                const qint64 keepFrom = query.value(0).toLongLong();
                query.finish();
                run(QStringLiteral("DELETE FROM attempts WHERE request_id < ?"), keepFrom, false);
                run(QStringLiteral("DELETE FROM requests WHERE id < ?"), keepFrom, true);
            }
        }
    }
    if (why.isEmpty() && db.commit()) {
        if (deleted > 0)
            qCInfo(lcStorage) << "request log retention removed" << deleted << "requests";
        return;
    }
    if (why.isEmpty())
        why = db.lastError().text();
    db.rollback();
    qCWarning(lcStorage).noquote() << "request log retention failed:" << why;
}
