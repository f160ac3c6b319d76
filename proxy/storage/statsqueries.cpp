#include "statsqueries.h"

#include "storagecommon.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariantList>

namespace {

const char kRequestColumns[] =
    "id, started_at_ms, chain, provider, model, stream, status, latency_ms, first_token_ms, "
    "prompt_tokens, completion_tokens, total_tokens, tokens_estimated, attempts, error, "
    "client_key_label, replica";

StoredRequest readRequest(const QSqlQuery &q)
{
    StoredRequest out;
    out.id = q.value(0).toLongLong();
    RequestRecord &r = out.record;
    r.startedAtMs = q.value(1).toLongLong();
    r.chain = q.value(2).toString();
    r.provider = q.value(3).toString();
    r.model = q.value(4).toString();
    r.stream = q.value(5).toInt() != 0;
    r.status = q.value(6).toInt();
    r.latencyMs = q.value(7).toLongLong();
    r.firstTokenMs = q.value(8).isNull() ? -1 : q.value(8).toLongLong();
    r.promptTokens = q.value(9).toLongLong();
    r.completionTokens = q.value(10).toLongLong();
    r.totalTokens = q.value(11).toLongLong();
    r.tokensEstimated = q.value(12).toInt() != 0;
    out.attemptCount = q.value(13).toInt();
    r.error = q.value(14).toString();
    r.clientKeyLabel = q.value(15).toString();
    r.replica = q.value(16).toString();
    return out;
}

// An outcome written by a newer build that this one does not know reads as a server error.
AttemptRecord::Outcome outcomeFromName(const QString &name)
{
    using O = AttemptRecord::Outcome;
    for (O outcome : {O::Success, O::Skipped, O::RateLimited, O::ClientError, O::ServerError, O::Timeout,
                      O::NetworkError, O::StreamError}) {
        if (AttemptRecord::outcomeName(outcome) == name)
            return outcome;
    }
    return O::ServerError;
}

} // namespace

StatsQueries::StatsQueries(const QSqlDatabase &db) : m_db(db) {}

bool StatsQueries::run(QSqlQuery &query, const char *what)
{
    if (query.exec())
        return true;
    m_failed = true;
    qCWarning(lcStorage).noquote() << "request log: reading" << what << "failed:" << query.lastError().text();
    return false;
}

StatsSummary StatsQueries::summary(qint64 nowMs)
{
    StatsSummary out;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(waterfalls), 0), "
                             "COALESCE(SUM(latency_ms_sum), 0), COALESCE(SUM(failures), 0), "
                             "COALESCE(SUM(total_tokens), 0), "
                             "COALESCE(SUM(CASE WHEN day = ? THEN requests END), 0), "
                             "COALESCE(SUM(CASE WHEN day = ? THEN total_tokens END), 0) "
                             "FROM usage_daily_chain"));
    const QString today = StorageCommon::utcDay(nowMs);
    q.bindValue(0, today);
    q.bindValue(1, today);
    if (!run(q, "the summary") || !q.next())
        return out;
    out.totalRequests = q.value(0).toLongLong();
    out.waterfallRequests = q.value(1).toLongLong();
    if (out.totalRequests > 0)
        out.avgLatencyMs = qRound64(q.value(2).toDouble() / double(out.totalRequests));
    out.successfulRequests = out.totalRequests - q.value(3).toLongLong();
    out.totalTokens = q.value(4).toLongLong();
    out.requestsToday = q.value(5).toLongLong();
    out.tokensToday = q.value(6).toLongLong();
    return out;
}

QList<UsageTotals> StatsQueries::usage(bool byProvider, const QString &key)
{
    const QString table =
        byProvider ? QStringLiteral("usage_daily_provider") : QStringLiteral("usage_daily_chain");
    const QString column = byProvider ? QStringLiteral("provider") : QStringLiteral("chain");
    QString sql =
        QLatin1String("SELECT ") + column +
        QLatin1String(", SUM(requests), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens), "
                      "MAX(last_request_ms), SUM(failures) FROM ") +
        table;
    if (!key.isNull())
        sql += QLatin1String(" WHERE ") + column + QLatin1String(" = ?");
    sql += QLatin1String(" GROUP BY ") + column + QLatin1String(" ORDER BY MAX(last_request_ms) DESC, ") +
           column;

    QList<UsageTotals> out;
    QSqlQuery q(m_db);
    q.prepare(sql);
    if (!key.isNull())
        q.bindValue(0, key);
    if (!run(q, "usage totals"))
        return out;
    while (q.next()) {
        UsageTotals t;
        t.key = q.value(0).toString();
        t.requests = q.value(1).toLongLong();
        t.promptTokens = q.value(2).toLongLong();
        t.completionTokens = q.value(3).toLongLong();
        t.totalTokens = q.value(4).toLongLong();
        t.lastRequestMs = q.value(5).toLongLong();
        t.failures = q.value(6).toLongLong();
        out.append(t);
    }
    return out;
}

QList<StoredRequest> StatsQueries::requests(const RequestQuery &query)
{
    QStringList where;
    QVariantList values;
    if (!query.chain.isEmpty()) {
        where << QStringLiteral("chain = ?");
        values << query.chain;
    }
    if (!query.provider.isEmpty()) {
        where << QStringLiteral("provider = ?");
        values << query.provider;
    }
    if (query.status > 0) {
        where << QStringLiteral("status = ?");
        values << query.status;
    }
    if (query.statusClass > 0) {
        where << QStringLiteral("status >= ? AND status < ?");
        values << query.statusClass * 100 << (query.statusClass + 1) * 100;
    }
    if (query.sinceMs > 0) {
        where << QStringLiteral("started_at_ms >= ?");
        values << query.sinceMs;
    }
    if (query.untilMs > 0) {
        where << QStringLiteral("started_at_ms < ?");
        values << query.untilMs;
    }
    if (query.beforeId > 0) {
        where << QStringLiteral("id < ?");
        values << query.beforeId;
    }
    QString sql = QLatin1String("SELECT ") + QLatin1String(kRequestColumns) + QLatin1String(" FROM requests");
    if (!where.isEmpty())
        sql += QLatin1String(" WHERE ") + where.join(QLatin1String(" AND "));
    sql += QLatin1String(" ORDER BY id DESC LIMIT ? OFFSET ?");
    values << qBound(1, query.limit, 500) << qMax(0, query.offset);

    QList<StoredRequest> out;
    QSqlQuery q(m_db);
    q.prepare(sql);
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    if (!run(q, "requests"))
        return out;
    while (q.next())
        out.append(readRequest(q));
    return out;
}

std::optional<StoredRequest> StatsQueries::request(qint64 id)
{
    QSqlQuery q(m_db);
    q.prepare(QLatin1String("SELECT ") + QLatin1String(kRequestColumns) +
              QLatin1String(" FROM requests WHERE id = ?"));
    q.bindValue(0, id);
    if (!run(q, "a request") || !q.next())
        return std::nullopt;
    StoredRequest out = readRequest(q);

    QSqlQuery a(m_db);
    a.prepare(QStringLiteral("SELECT provider, model, outcome, status, latency_ms, reason FROM attempts "
                             "WHERE request_id = ? ORDER BY seq"));
    a.bindValue(0, id);
    if (!run(a, "attempts"))
        return out;
    while (a.next()) {
        AttemptRecord attempt;
        attempt.provider = a.value(0).toString();
        attempt.model = a.value(1).toString();
        attempt.outcome = outcomeFromName(a.value(2).toString());
        attempt.status = a.value(3).toInt();
        attempt.latencyMs = a.value(4).toLongLong();
        attempt.reason = a.value(5).toString();
        out.record.attempts.append(attempt);
    }
    return out;
}

QList<TimeseriesPoint> StatsQueries::timeseries(bool hourly, qint64 sinceMs)
{
    QSqlQuery q(m_db);
    if (hourly) {
        q.prepare(
            QStringLiteral("SELECT (started_at_ms / 3600000) * 3600000 AS bucket, provider, COUNT(*), "
                           "SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens) FROM requests "
                           "WHERE started_at_ms >= ? GROUP BY bucket, provider ORDER BY bucket, provider"));
        q.bindValue(0, sinceMs > 0 ? StorageCommon::floorTo(sinceMs, StorageCommon::kHourMs) : qint64(0));
    } else {
        q.prepare(
            QStringLiteral("SELECT day, provider, SUM(requests), SUM(prompt_tokens), SUM(completion_tokens), "
                           "SUM(total_tokens) FROM usage_daily_provider WHERE day >= ? "
                           "GROUP BY day, provider ORDER BY day, provider"));
        q.bindValue(0, sinceMs > 0 ? StorageCommon::utcDay(sinceMs) : QStringLiteral("0000-01-01"));
    }
    QList<TimeseriesPoint> out;
    if (!run(q, "a time series"))
        return out;
    while (q.next()) {
        TimeseriesPoint p;
        p.bucketStartMs = hourly ? q.value(0).toLongLong() : StorageCommon::dayStartMs(q.value(0).toString());
        p.provider = q.value(1).toString();
        p.requests = q.value(2).toLongLong();
        p.promptTokens = q.value(3).toLongLong();
        p.completionTokens = q.value(4).toLongLong();
        p.totalTokens = q.value(5).toLongLong();
        out.append(p);
    }
    return out;
}

qint64 StatsQueries::requestRowCount()
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT COUNT(*) FROM requests"));
    if (!run(q, "the row count") || !q.next())
        return 0;
    return q.value(0).toLongLong();
}
