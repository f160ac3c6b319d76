#include "storageschema.h"

#include "sqldialect.h"
#include "storagecommon.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>

using StorageCommon::exec;

namespace {

struct MigrationStep
{
    int version;
    bool (*apply)(QSqlDatabase &db, QString *error);
};

// The counters both rollup tables share; the summary reads them from usage_daily_chain (every request counts
// there exactly once), so it stays exact after retention has pruned the request rows.
QString rollupCounters(const SqlDialect &sql)
{
    QStringList columns;
    for (const char *name : {"requests", "failures", "waterfalls", "prompt_tokens", "completion_tokens",
                             "total_tokens", "latency_ms_sum", "last_request_ms"})
        columns << QString(QLatin1String(name) + QLatin1Char(' ') + sql.integer() +
                           QLatin1String(" NOT NULL DEFAULT 0"));
    return columns.join(QLatin1String(", "));
}

bool execAll(QSqlDatabase &db, const QStringList &statements, QString *error)
{
    QSqlQuery query(db);
    for (const QString &sql : statements) {
        if (!exec(query, sql, error))
            return false;
    }
    return true;
}

} // namespace

int StorageSchema::version(QSqlDatabase &db)
{
    return SqlDialect::of(db).schemaVersion(db);
}

bool StorageSchema::migrate(QSqlDatabase &db, QString *error)
{
    // Replicas starting together on one PostgreSQL database migrate one after the other: the second finds the
    // schema current and does nothing.
    const SqlDialect sql = SqlDialect::of(db);
    if (!sql.lock(db, SqlDialect::kMigrationLock, error))
        return false;
    const bool ok = migrateLocked(db, error);
    sql.unlock(db, SqlDialect::kMigrationLock);
    return ok;
}

bool StorageSchema::migrateLocked(QSqlDatabase &db, QString *error)
{
    static const MigrationStep steps[] = {
        // 1 and 2 are the reference's own versions: nothing of ours to add before 3.
        {3, &StorageSchema::createV3},
        {4, &StorageSchema::createV4},
        {5, &StorageSchema::createV5},
        {6, &StorageSchema::createV6},
    };
    const SqlDialect sql = SqlDialect::of(db);

    const int current = version(db);
    if (current < 0) {
        *error = QStringLiteral("cannot read the schema version: ") + db.lastError().text();
        return false;
    }
    if (current > kCurrentVersion) {
        *error = QStringLiteral("the database has schema version %1, newer than this build supports (%2)")
                     .arg(current)
                     .arg(kCurrentVersion);
        return false;
    }
    for (const MigrationStep &step : steps) {
        if (step.version <= current)
            continue;
        if (!db.transaction()) {
            *error = QStringLiteral("cannot start the migration: ") + db.lastError().text();
            return false;
        }
        QString why;
        const bool ok = step.apply(db, &why) && sql.setSchemaVersion(db, step.version, &why);
        if (!ok || !db.commit()) {
            if (why.isEmpty())
                why = db.lastError().text();
            db.rollback();
            *error = QStringLiteral("migration to schema version %1 failed: %2").arg(step.version).arg(why);
            return false;
        }
        qCInfo(lcStorage).noquote() << "request log" << sql.name() << "migrated to schema version"
                                    << step.version;
    }
    return true;
}

bool StorageSchema::createV3(QSqlDatabase &db, QString *error)
{
    const SqlDialect sql = SqlDialect::of(db);
    const QString counters = rollupCounters(sql);
    // SQLite's INTEGER is already 64-bit; PostgreSQL's is not (BIGINT there).
    const QString statement = QStringLiteral("CREATE TABLE requests ("
                                             "id %1, "
                                             "started_at_ms %2 NOT NULL, "
                                             "chain TEXT NOT NULL DEFAULT '', "
                                             "provider TEXT NOT NULL DEFAULT '', "
                                             "model TEXT NOT NULL DEFAULT '', "
                                             "stream INTEGER NOT NULL DEFAULT 0, "
                                             "status INTEGER NOT NULL DEFAULT 0, "
                                             "latency_ms %2 NOT NULL DEFAULT 0, "
                                             "first_token_ms %2, "
                                             "prompt_tokens %2 NOT NULL DEFAULT 0, "
                                             "completion_tokens %2 NOT NULL DEFAULT 0, "
                                             "total_tokens %2 NOT NULL DEFAULT 0, "
                                             "tokens_estimated INTEGER NOT NULL DEFAULT 0, "
                                             "attempts INTEGER NOT NULL DEFAULT 0, "
                                             "error TEXT NOT NULL DEFAULT '', "
                                             "client_key_label TEXT NOT NULL DEFAULT '')");
    const QStringList statements = {
        statement.arg(sql.autoIncrementKey(), sql.integer()),
        QStringLiteral("CREATE INDEX idx_requests_started ON requests(started_at_ms)"),
        QStringLiteral("CREATE INDEX idx_requests_chain ON requests(chain, id)"),
        QStringLiteral("CREATE INDEX idx_requests_provider ON requests(provider, id)"),
        QStringLiteral("CREATE INDEX idx_requests_status ON requests(status, id)"),
        QStringLiteral("CREATE TABLE attempts ("
                       "request_id %1 NOT NULL, "
                       "seq INTEGER NOT NULL, "
                       "provider TEXT NOT NULL DEFAULT '', "
                       "model TEXT NOT NULL DEFAULT '', "
                       "outcome TEXT NOT NULL DEFAULT '', "
                       "status INTEGER NOT NULL DEFAULT 0, "
                       "latency_ms %1 NOT NULL DEFAULT 0, "
                       "reason TEXT NOT NULL DEFAULT '', "
                       "PRIMARY KEY (request_id, seq))")
                .arg(sql.integer()) +
            sql.withoutRowid(),
        QLatin1String("CREATE TABLE usage_daily_provider (day TEXT NOT NULL, provider TEXT NOT NULL, "
                      "model TEXT NOT NULL, ") +
            counters + QLatin1String(", PRIMARY KEY (day, provider, model))") + sql.withoutRowid(),
        QLatin1String("CREATE TABLE usage_daily_chain (day TEXT NOT NULL, chain TEXT NOT NULL, ") + counters +
            QLatin1String(", PRIMARY KEY (day, chain))") + sql.withoutRowid(),
    };
    return execAll(db, statements, error) && importReferenceLog(db, error);
}

// One row at most (id 1): the tracker's state as RateLimitTracker::saveState() wrote it, replaced on every
// save.
bool StorageSchema::createV4(QSqlDatabase &db, QString *error)
{
    const SqlDialect sql = SqlDialect::of(db);
    return execAll(db,
                   {QStringLiteral("CREATE TABLE limiter_state ("
                                   "id INTEGER PRIMARY KEY CHECK (id = 1), "
                                   "saved_at_ms %1, "
                                   "state %2)")
                        .arg(sql.integer(), sql.blob())},
                   error);
}

// Which replica wrote each request row (settings.replicaName); rows of before are ''.
bool StorageSchema::createV5(QSqlDatabase &db, QString *error)
{
    return execAll(db, {QStringLiteral("ALTER TABLE requests ADD COLUMN replica TEXT NOT NULL DEFAULT ''")},
                   error);
}

// The config replicas on one PostgreSQL database share (ConfigSharing): one row, the YAML text and a version
// that every save increments. Created on SQLite too (one schema), where nothing uses it.
bool StorageSchema::createV6(QSqlDatabase &db, QString *error)
{
    const SqlDialect sql = SqlDialect::of(db);
    return execAll(db,
                   {QStringLiteral("CREATE TABLE chain_config ("
                                   "id INTEGER PRIMARY KEY CHECK (id = 1), "
                                   "version %1 NOT NULL, "
                                   "yaml TEXT NOT NULL, "
                                   "updated_at_ms %1 NOT NULL, "
                                   "updated_by TEXT NOT NULL DEFAULT '')")
                        .arg(sql.integer())},
                   error);
}

// A reference database (request_logs, v1 without error_message or v2 with it): its rows become ours with
// their ids (so new ids continue after them), with no attempt rows (it kept only a count), stream and
// first-token unknown (0 / NULL) and tokens not estimated. The rollups are rebuilt from those rows, so they
// equal the sum of the rows; the reference's own usage_by_* totals and triggers are left as they are, unread.
bool StorageSchema::importReferenceLog(QSqlDatabase &db, QString *error)
{
    // The reference only ever wrote SQLite files.
    if (SqlDialect::of(db).isPostgreSql() || !hasTable(db, QStringLiteral("request_logs")))
        return true;
    const QString errorColumn = hasColumn(db, QStringLiteral("request_logs"), QStringLiteral("error_message"))
                                    ? QStringLiteral("COALESCE(error_message, '')")
                                    : QStringLiteral("''");
    const QString rollupColumns =
        QStringLiteral("requests, failures, waterfalls, prompt_tokens, completion_tokens, "
                       "total_tokens, latency_ms_sum, last_request_ms");
    const QString rollupValues =
        QStringLiteral("COUNT(*), SUM(status >= 400), SUM(attempts > 1), SUM(prompt_tokens), "
                       "SUM(completion_tokens), SUM(total_tokens), SUM(latency_ms), "
                       "MAX(started_at_ms)");
    const QString day = QStringLiteral("strftime('%Y-%m-%d', started_at_ms / 1000, 'unixepoch')");
    const QStringList statements = {
        QLatin1String(
            "INSERT INTO requests (id, started_at_ms, chain, provider, model, stream, status, latency_ms, "
            "first_token_ms, prompt_tokens, completion_tokens, total_tokens, tokens_estimated, attempts, "
            "error, client_key_label) "
            "SELECT id, timestamp, COALESCE(chain_name, ''), COALESCE(provider_id, ''), "
            "COALESCE(model, ''), 0, COALESCE(http_status, 0), COALESCE(latency_ms, 0), NULL, "
            "COALESCE(prompt_tokens, 0), COALESCE(completion_tokens, 0), COALESCE(total_tokens, 0), 0, "
            "COALESCE(attempts, 0), ") +
            errorColumn + QLatin1String(", '' FROM request_logs WHERE timestamp IS NOT NULL ORDER BY id"),
        QLatin1String("INSERT INTO usage_daily_provider (day, provider, model, ") + rollupColumns +
            QLatin1String(") SELECT ") + day + QLatin1String(", provider, model, ") + rollupValues +
            QLatin1String(" FROM requests GROUP BY 1, provider, model"),
        QLatin1String("INSERT INTO usage_daily_chain (day, chain, ") + rollupColumns +
            QLatin1String(") SELECT ") + day + QLatin1String(", chain, ") + rollupValues +
            QLatin1String(" FROM requests GROUP BY 1, chain"),
    };
    if (!execAll(db, statements, error))
        return false;
    QSqlQuery count(db);
    if (count.exec(QStringLiteral("SELECT COUNT(*) FROM requests")) && count.next())
        qCInfo(lcStorage) << "imported" << count.value(0).toLongLong()
                          << "requests from the reference's request_logs";
    return true;
}

bool StorageSchema::hasTable(QSqlDatabase &db, const QString &table)
{
    QSqlQuery query(db);
    query.prepare(QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
    query.bindValue(0, table);
    return query.exec() && query.next();
}

bool StorageSchema::hasColumn(QSqlDatabase &db, const QString &table, const QString &column)
{
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA table_info(") + table + QLatin1Char(')')))
        return false;
    while (query.next()) {
        if (query.value(1).toString() == column)
            return true;
    }
    return false;
}
