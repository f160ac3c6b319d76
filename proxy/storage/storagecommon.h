#pragma once

#include "storageurl.h"

#include <QLoggingCategory>
#include <QString>
#include <QVariant>

#include <initializer_list>

class QSqlQuery;

Q_DECLARE_LOGGING_CATEGORY(lcStorage)

// Small helpers shared by the writer, the schema migrator and the stats queries: UTC day arithmetic (rollup
// days are "YYYY-MM-DD" in UTC, the same text SQLite's strftime('%Y-%m-%d', …, 'unixepoch') gives) and
// connections.
namespace StorageCommon {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kDayMs = 86'400'000;
constexpr int kBusyTimeoutMs = 5000;
constexpr int kConnectTimeoutS = 5;

qint64 floorTo(qint64 ms, qint64 unit);
QString utcDay(qint64 ms);             // "2024-05-01"
qint64 dayStartMs(const QString &day); // -1 when the text is not a date

// Where a connection goes: the SQLite file `path`, or the PostgreSQL database of `url`.
struct Target
{
    QString path;
    StorageUrl url;

    bool isPostgreSql() const { return url.isPostgreSql(); }
    QString describe() const { return isPostgreSql() ? url.describe() : path; } // never the password
};

// Adds a connection called `name` and opens it: QSQLITE on the file with the busy timeout and
// synchronous=NORMAL, checking that the file is a database; or QPSQL to the URL's database (a connect timeout
// of kConnectTimeoutS unless the URL sets one). On failure the connection is removed again and `error` names
// the file or database (never the password).
bool openConnection(const QString &name, const Target &target, QString *error);
void closeConnection(const QString &name);

// Binds `values` to the positional placeholders of a prepared query, first to last.
void bindAll(QSqlQuery &query, std::initializer_list<QVariant> values);
// Executes `sql`; on failure fills `error` with the statement's error.
bool exec(QSqlQuery &query, const QString &sql, QString *error);

} // namespace StorageCommon
