#pragma once

#include <QString>

class QSqlDatabase;

// Brings a request-log database to the current schema, SQLite or PostgreSQL (SqlDialect says what differs).
// The version lives in PRAGMA user_version (PostgreSQL: table chain_schema) and the
// migration is an ordered list of steps, each taking the file to one version inside one transaction; a later
// schema adds steps at the end. Our numbering continues the reference's (its v1 and v2 are `request_logs` and
// friends), so a reference database is simply "version 2" to us: step 3 adds our tables beside its tables,
// copies its rows in and leaves its tables untouched (the reference app can still open the file: it skips
// versions it does not know). Step 4 adds limiter_state, the one-row home of the rate-limit tracker's saved
// state. Step 5 adds requests.replica, step 6 chain_config (the config replicas share). On PostgreSQL the
// migration holds an advisory lock, so replicas starting together take turns. Used by RequestStore's writer
// when it opens the database.
class StorageSchema
{
public:
    static constexpr int kCurrentVersion = 6;

    // The schema version, or -1 when it cannot be read.
    static int version(QSqlDatabase &db);
    // Runs the missing steps. Refuses a file newer than this build.
    static bool migrate(QSqlDatabase &db, QString *error);

private:
    static bool migrateLocked(QSqlDatabase &db, QString *error);
    static bool createV3(QSqlDatabase &db, QString *error);
    static bool createV4(QSqlDatabase &db, QString *error);
    static bool createV5(QSqlDatabase &db, QString *error);
    static bool createV6(QSqlDatabase &db, QString *error);
    static bool importReferenceLog(QSqlDatabase &db, QString *error);
    static bool hasTable(QSqlDatabase &db, const QString &table);
    static bool hasColumn(QSqlDatabase &db, const QString &table, const QString &column);
};
