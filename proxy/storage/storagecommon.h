#pragma once

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

qint64 floorTo(qint64 ms, qint64 unit);
QString utcDay(qint64 ms);             // "2024-05-01"
qint64 dayStartMs(const QString &day); // -1 when the text is not a date

// Adds a QSQLITE connection called `name` to `path`, opens it with the busy timeout and synchronous=NORMAL
// and checks that the file is a database. On failure the connection is removed again and `error` names the
// path.
bool openConnection(const QString &name, const QString &path, QString *error);
void closeConnection(const QString &name);

// Binds `values` to the positional placeholders of a prepared query, first to last.
void bindAll(QSqlQuery &query, std::initializer_list<QVariant> values);
// Executes `sql`; on failure fills `error` with the statement's error.
bool exec(QSqlQuery &query, const QString &sql, QString *error);

} // namespace StorageCommon
