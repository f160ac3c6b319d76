#include "requestbatch.h"

#include "sqldialect.h"
#include "storagecommon.h"

#include <QSqlError>
#include <QStringList>

#include <map>
#include <tuple>

using StorageCommon::bindAll;

namespace {

struct Counters
{
    qint64 requests = 0;
    qint64 failures = 0;
    qint64 waterfalls = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 totalTokens = 0;
    qint64 latencySumMs = 0;
    qint64 lastRequestMs = 0;

    void add(const RequestRecord &r)
    {
        ++requests;
        failures += r.status >= 400 ? 1 : 0;
        waterfalls += r.attempts.size() > 1 ? 1 : 0;
        promptTokens += r.promptTokens;
        completionTokens += r.completionTokens;
        totalTokens += r.totalTokens;
        latencySumMs += r.latencyMs;
        lastRequestMs = qMax(lastRequestMs, r.startedAtMs);
    }
};

const char kCounterColumns[] =
    "requests, failures, waterfalls, prompt_tokens, completion_tokens, total_tokens, "
    "latency_ms_sum, last_request_ms";

// "requests = t.requests + excluded.requests, …": the old value qualified by the table, which PostgreSQL
// requires (and SQLite accepts).
QString counterUpdates(const QString &table, const SqlDialect &sql)
{
    QStringList updates;
    for (const char *column : {"requests", "failures", "waterfalls", "prompt_tokens", "completion_tokens",
                               "total_tokens", "latency_ms_sum"}) {
        const QString name = QLatin1String(column);
        updates << name + QLatin1String(" = ") + table + QLatin1Char('.') + name +
                       QLatin1String(" + excluded.") + name;
    }
    updates << QLatin1String("last_request_ms = ") + sql.greatest() + QLatin1Char('(') + table +
                   QLatin1String(".last_request_ms, excluded.last_request_ms)");
    return updates.join(QLatin1String(", "));
}

// A null QString binds as SQL NULL; the text columns are NOT NULL with '' for "none".
QVariant text(const QString &value)
{
    return value.isNull() ? QVariant(QStringLiteral("")) : QVariant(value);
}

QVariant nullableMs(qint64 ms)
{
    return ms >= 0 ? QVariant(ms) : QVariant(QMetaType::fromType<qint64>());
}

} // namespace

RequestBatch::RequestBatch(const QSqlDatabase &db)
    : m_db(db), m_insertRequest(db), m_insertAttempt(db), m_upsertProvider(db), m_upsertChain(db)
{
}

bool RequestBatch::prepare(QString *error)
{
    // Prepared once per connection: a batch is often a handful of records, and preparing four statements
    // cost more than writing them.
    const SqlDialect sql = SqlDialect::of(m_db);
    m_returningId = sql.isPostgreSql();
    const QString counterColumns = QLatin1String(kCounterColumns);
    QString why;
    auto prepare = [&why](QSqlQuery &query, const QString &statement) {
        if (why.isEmpty() && !query.prepare(statement))
            why = query.lastError().text();
    };
    prepare(m_insertRequest,
            QStringLiteral("INSERT INTO requests (started_at_ms, chain, provider, model, stream, status, "
                           "latency_ms, first_token_ms, prompt_tokens, completion_tokens, total_tokens, "
                           "tokens_estimated, attempts, error, client_key_label, replica) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") +
                sql.returningId());
    prepare(m_insertAttempt,
            QStringLiteral("INSERT INTO attempts (request_id, seq, provider, model, outcome, "
                           "status, latency_ms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    prepare(m_upsertProvider, QLatin1String("INSERT INTO usage_daily_provider (day, provider, model, ") +
                                  counterColumns +
                                  QLatin1String(") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                                "ON CONFLICT (day, provider, model) DO UPDATE SET ") +
                                  counterUpdates(QStringLiteral("usage_daily_provider"), sql));
    prepare(m_upsertChain, QLatin1String("INSERT INTO usage_daily_chain (day, chain, ") + counterColumns +
                               QLatin1String(") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT (day, chain) DO UPDATE SET ") +
                               counterUpdates(QStringLiteral("usage_daily_chain"), sql));
    if (!why.isEmpty()) {
        *error = why;
        return false;
    }
    m_prepared = true;
    return true;
}

bool RequestBatch::write(const QList<RequestRecord> &batch, QString *error)
{
    if (!m_db.transaction()) {
        *error = QStringLiteral("cannot start a transaction: ") + m_db.lastError().text();
        return false;
    }
    QString why;
    if ((m_prepared || prepare(&why)) && writeRows(batch, &why) && m_db.commit())
        return true;
    if (why.isEmpty())
        why = m_db.lastError().text();
    m_db.rollback();
    *error = why;
    return false;
}

bool RequestBatch::writeRows(const QList<RequestRecord> &batch, QString *error)
{
    std::map<std::tuple<QString, QString, QString>, Counters> byProvider;
    std::map<std::pair<QString, QString>, Counters> byChain;
    auto run = [error](QSqlQuery &query) {
        if (query.exec())
            return true;
        *error = query.lastError().text();
        return false;
    };
    for (const RequestRecord &r : batch) {
        bindAll(m_insertRequest,
                {r.startedAtMs, text(r.chain), text(r.provider), text(r.model), int(r.stream), r.status,
                 r.latencyMs, nullableMs(r.firstTokenMs), r.promptTokens, r.completionTokens, r.totalTokens,
                 int(r.tokensEstimated), int(r.attempts.size()), text(r.error), text(r.clientKeyLabel),
                 text(r.replica)});
        if (!run(m_insertRequest))
            return false;
        qint64 id = 0;
        if (m_returningId) {
            if (!m_insertRequest.next()) {
                *error = QStringLiteral("the insert returned no id");
                return false;
            }
            id = m_insertRequest.value(0).toLongLong();
            m_insertRequest.finish();
        } else {
            id = m_insertRequest.lastInsertId().toLongLong();
        }
        for (qsizetype seq = 0; seq < r.attempts.size(); ++seq) {
            const AttemptRecord &a = r.attempts.at(seq);
            bindAll(m_insertAttempt,
                    {id, int(seq), text(a.provider), text(a.model), AttemptRecord::outcomeName(a.outcome),
                     a.status, a.latencyMs, text(a.reason)});
            if (!run(m_insertAttempt))
                return false;
        }
        const QString day = StorageCommon::utcDay(r.startedAtMs);
        byProvider[{day, r.provider, r.model}].add(r);
        byChain[{day, r.chain}].add(r);
    }
    for (auto it = byProvider.cbegin(); it != byProvider.cend(); ++it) {
        const Counters &c = it->second;
        bindAll(m_upsertProvider,
                {std::get<0>(it->first), text(std::get<1>(it->first)), text(std::get<2>(it->first)),
                 c.requests, c.failures, c.waterfalls, c.promptTokens, c.completionTokens, c.totalTokens,
                 c.latencySumMs, c.lastRequestMs});
        if (!run(m_upsertProvider))
            return false;
    }
    for (auto it = byChain.cbegin(); it != byChain.cend(); ++it) {
        const Counters &c = it->second;
        bindAll(m_upsertChain,
                {it->first.first, text(it->first.second), c.requests, c.failures, c.waterfalls,
                 c.promptTokens, c.completionTokens, c.totalTokens, c.latencySumMs, c.lastRequestMs});
        if (!run(m_upsertChain))
            return false;
    }
    return true;
}
