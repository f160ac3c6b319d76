#pragma once

#include <QCoreApplication>
#include <QString>

#include <optional>

// Where the request log lives, from settings.storage (or DATABASE_URL / CHAIN_DATABASE_URL): empty or
// "sqlite" = the SQLite file at settings.dbPath; "postgresql://user:password@host:port/db?sslmode=…" (also
// "postgres://") = a PostgreSQL database shared by several replicas. Parsed here, in the core, so the
// validator can name a bad value; chain_storage turns it into a QPSQL connection. The password is never
// shown: masked() is what logs, the admin API and the UIs print.
struct StorageUrl
{
    Q_DECLARE_TR_FUNCTIONS(StorageUrl)

public:
    enum class Kind { Sqlite, PostgreSql };

    Kind kind = Kind::Sqlite;
    QString host;
    int port = 5432;
    QString user;
    QString password;
    QString database;
    // libpq connection options from the query ("sslmode=require;connect_timeout=5"), as QPSQL takes them.
    QString connectOptions;

    bool isPostgreSql() const { return kind == Kind::PostgreSql; }

    // nullopt and `error` set when `text` is neither empty, "sqlite" nor a valid PostgreSQL URL.
    static std::optional<StorageUrl> parse(const QString &text, QString *error);
    // `text` with its password replaced by ConfigJson's mask ("***"); other values unchanged.
    static QString masked(const QString &text);
    // The connection as "postgresql://user@host:port/db" (no password), for messages.
    QString describe() const;
};
