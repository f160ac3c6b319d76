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

bool openConnection(const QString &name, const QString &path, QString *error)
{
    QString why;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        if (!db.isValid()) {
            why = QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed");
        } else {
            db.setDatabaseName(path);
            db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs));
            if (!db.open()) {
                why = db.lastError().text();
            } else {
                // Reading the schema is what tells a database from another file.
                QSqlQuery query(db);
                if (!exec(query, QStringLiteral("PRAGMA synchronous=NORMAL"), &why) ||
                    !exec(query, QStringLiteral("SELECT COUNT(*) FROM sqlite_master"), &why)) {
                    db.close();
                }
            }
        }
    }
    if (why.isEmpty())
        return true;
    QSqlDatabase::removeDatabase(name);
    if (error)
        *error = QStringLiteral("cannot open the request log %1: %2").arg(path, why);
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
