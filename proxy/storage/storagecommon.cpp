#include "storagecommon.h"

#include <QDate>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

Q_LOGGING_CATEGORY(lcStorage, "chain.storage")

namespace StorageCommon {

namespace {
const QDate kEpoch(1970, 1, 1);
} // namespace

qint64 floorTo(qint64 ms, qint64 unit)
{
    const qint64 q = ms / unit;
    return (ms % unit < 0 ? q - 1 : q) * unit;
}

QString utcDay(qint64 ms)
{
    return kEpoch.addDays(floorTo(ms, kDayMs) / kDayMs).toString(Qt::ISODate);
}

qint64 dayStartMs(const QString &day)
{
    const QDate date = QDate::fromString(day, Qt::ISODate);
    return date.isValid() ? kEpoch.daysTo(date) * kDayMs : -1;
}

namespace {

QString openSqlite(const QString &name, const QString &path)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    if (!db.isValid())
        return QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed");
    db.setDatabaseName(path);
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs));
    if (!db.open())
        return db.lastError().text();
    // Reading the schema is what tells a database from another file.
    QString why;
    QSqlQuery query(db);
    if (!exec(query, QStringLiteral("PRAGMA synchronous=NORMAL"), &why) ||
        !exec(query, QStringLiteral("SELECT COUNT(*) FROM sqlite_master"), &why)) {
        query.finish();
        db.close();
    }
    return why;
}

QString openPostgreSql(const QString &name, const StorageUrl &url)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    if (!db.isValid())
        return QStringLiteral("the Qt PostgreSQL driver (QPSQL) is not installed (Debian: libqt6sql6-psql)");
    db.setHostName(url.host);
    db.setPort(url.port);
    db.setUserName(url.user);
    db.setPassword(url.password);
    db.setDatabaseName(url.database);
    QString options = url.connectOptions;
    if (!options.contains(QLatin1String("connect_timeout="))) {
        options += (options.isEmpty() ? QString() : QStringLiteral(";")) +
                   QStringLiteral("connect_timeout=%1").arg(kConnectTimeoutS);
    }
    db.setConnectOptions(options);
    if (!db.open())
        return db.lastError().text().trimmed();
    QString why;
    QSqlQuery query(db);
    // Our timestamps are epoch milliseconds and days are UTC text: the session's zone must not matter, but
    // keep it fixed anyway for anyone reading the tables by hand.
    if (!exec(query, QStringLiteral("SET TIME ZONE 'UTC'"), &why)) {
        query.finish();
        db.close();
    }
    return why;
}

} // namespace

bool openConnection(const QString &name, const Target &target, QString *error)
{
    const QString why =
        target.isPostgreSql() ? openPostgreSql(name, target.url) : openSqlite(name, target.path);
    if (why.isEmpty())
        return true;
    QSqlDatabase::removeDatabase(name);
    if (error)
        *error = QStringLiteral("cannot open the request log %1: %2").arg(target.describe(), why);
    return false;
}

void closeConnection(const QString &name)
{
    {
        QSqlDatabase db = QSqlDatabase::database(name, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

void bindAll(QSqlQuery &query, std::initializer_list<QVariant> values)
{
    int index = 0;
    for (const QVariant &value : values)
        query.bindValue(index++, value);
}

bool exec(QSqlQuery &query, const QString &sql, QString *error)
{
    if (query.exec(sql))
        return true;
    if (error)
        *error = query.lastError().text() + QLatin1String(" [") + sql + QLatin1Char(']');
    return false;
}

} // namespace StorageCommon
