#pragma once

#include <QString>

class QSqlDatabase;

// What differs between SQLite and PostgreSQL in the request log's SQL, in one place, so the schema, the
// writer and the stats queries are one code for both: column types, the auto-increment key, the scalar
// maximum, how an insert hands its new id back, where the schema version lives (PRAGMA user_version / table
// chain_schema) and the advisory locks several PostgreSQL replicas take turns with (SQLite has one writer per
// file: its locks always succeed). Both take `?` placeholders (QPSQL turns them into $1, $2, …) and
// INSERT … ON CONFLICT … DO UPDATE with excluded.*.
class SqlDialect
{
public:
    enum class Kind { Sqlite, PostgreSql };

    // Advisory lock keys: one schema migration at a time, one retention run at a time.
    static constexpr qint64 kMigrationLock = 0x429C'0001;
    static constexpr qint64 kRetentionLock = 0x429C'0002;

    explicit SqlDialect(Kind kind) : m_kind(kind) {}
    static SqlDialect of(const QSqlDatabase &db); // by the connection's driver

    Kind kind() const { return m_kind; }
    bool isPostgreSql() const { return m_kind == Kind::PostgreSql; }
    QString name() const;

    QString integer() const;          // a 64-bit integer column
    QString autoIncrementKey() const; // the request id: a 64-bit key that keeps growing
    QString blob() const;
    QString withoutRowid() const; // the table suffix for tables keyed by their primary key
    QString greatest() const;     // the two-argument maximum: MAX in SQLite, GREATEST in PostgreSQL
    QString returningId() const;  // appended to the request insert: PostgreSQL hands the id back as a row

    // The schema version: PRAGMA user_version, or table chain_schema's one row (0 when it does not exist);
    // -1 when it cannot be read.
    int schemaVersion(QSqlDatabase &db) const;
    bool setSchemaVersion(QSqlDatabase &db, int version, QString *error) const;

    // Session lock held until unlock (waits for another replica's migration). No-ops on SQLite.
    bool lock(QSqlDatabase &db, qint64 key, QString *error) const;
    void unlock(QSqlDatabase &db, qint64 key) const;
    // Inside a transaction: true if this connection got the lock, false if another replica holds it; released
    // at commit or rollback. Always true on SQLite.
    bool tryTransactionLock(QSqlDatabase &db, qint64 key) const;

private:
    Kind m_kind;
};
