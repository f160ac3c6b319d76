#pragma once

#include "statssource.h"

#include <QSqlDatabase>

class QSqlQuery;

// The read side of the request log as SQL over one connection (the calling thread's): what RequestStore
// answers StatsSource with. Totals, the summary and daily series come from the daily rollups (all time, exact
// after retention); the request list, one request and hourly series come from the request rows (retained rows
// only). A failed query logs and answers empty.
class StatsQueries
{
public:
    explicit StatsQueries(const QSqlDatabase &db);

    StatsSummary summary(qint64 nowMs);
    QList<UsageTotals> usage(bool byProvider, const QString &key = QString());
    QList<StoredRequest> requests(const RequestQuery &query);
    std::optional<StoredRequest> request(qint64 id);
    QList<TimeseriesPoint> timeseries(bool hourly, qint64 sinceMs);
    qint64 requestRowCount();
    bool failed() const { return m_failed; } // a query of this object failed (and logged)

private:
    bool run(QSqlQuery &query, const char *what);

    QSqlDatabase m_db;
    bool m_failed = false;
};
