#include "requestwriter.h"

#include "storagecommon.h"
#include "storageschema.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

#include <map>
#include <tuple>
#include <utility>

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
const char kCounterUpdates[] = "requests = requests + excluded.requests, "
                               "failures = failures + excluded.failures, "
                               "waterfalls = waterfalls + excluded.waterfalls, "
                               "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                               "completion_tokens = completion_tokens + excluded.completion_tokens, "
                               "total_tokens = total_tokens + excluded.total_tokens, "
                               "latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, "
                               "last_request_ms = MAX(last_request_ms, excluded.last_request_ms)";

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

struct RequestWriter::Statements
{
    explicit Statements(const QSqlDatabase &db)
        : insertRequest(db), insertAttempt(db), upsertProvider(db), upsertChain(db)
    {
    }
    QSqlQuery insertRequest;
    QSqlQuery insertAttempt;
    QSqlQuery upsertProvider;
    QSqlQuery upsertChain;
};

RequestWriter::RequestWriter(const Settings &settings, const Clock &clock)
    : m_settings(settings), m_clock(clock)
{
}

RequestWriter::~RequestWriter() = default;

void RequestWriter::enqueue(RequestRecord record, qint64 nowMs)
{
    bool wakeUp = false;
    {
        QMutexLocker lock(&m_mutex);
        if (m_pending.size() >= m_settings.maxPending) {
            // Logged at 1, 2, 4, 8, … drops so a stuck disk cannot flood the log.
            ++m_dropped;
            if ((m_dropped & (m_dropped - 1)) == 0)
                qCWarning(lcStorage) << "request log queue full:" << m_dropped << "records dropped so far";
            return;
        }
        m_pending.append(std::move(record));
        m_latestQueuedMs = qMax(m_latestQueuedMs, nowMs);
        wakeUp = m_pending.size() == 1 || m_pending.size() % m_settings.maxBatch == 0;
    }
    if (wakeUp)
        QMetaObject::invokeMethod(
            this, [this] { wake(); }, Qt::QueuedConnection);
}

void RequestWriter::setLimiterState(const QByteArray &state, qint64 nowMs)
{
    bool wakeUp = false;
    {
        QMutexLocker lock(&m_mutex);
        wakeUp = !m_limiterPending;
        m_limiterPending = true;
        m_limiterState = state;
        m_limiterSavedAtMs = nowMs;
    }
    if (wakeUp)
        QMetaObject::invokeMethod(
            this, [this] { wake(); }, Qt::QueuedConnection);
}

void RequestWriter::wake()
{
    if (!m_open)
        return;
    qsizetype pending;
    bool limiterPending;
    {
        QMutexLocker lock(&m_mutex);
        pending = m_pending.size();
        limiterPending = m_limiterPending;
    }
    if (pending >= m_settings.maxBatch)
        writePending();
    else if ((pending > 0 || limiterPending) && !m_flushTimer->isActive())
        m_flushTimer->start();
}

bool RequestWriter::open(qint64 nowMs, QString *error)
{
    if (m_open)
        return true;
    if (!StorageCommon::openConnection(m_settings.connectionName, m_settings.path, error))
        return false;
    QString why;
    {
        QSqlDatabase db = QSqlDatabase::database(m_settings.connectionName, false);
        QSqlQuery query(db);
        if (query.exec(QStringLiteral("PRAGMA journal_mode=WAL")) && query.next()) {
            const QString mode = query.value(0).toString();
            if (mode.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
                qCWarning(lcStorage) << "request log" << m_settings.path << "runs in journal mode" << mode
                                     << "(WAL refused)";
        } else {
            why = query.lastError().text();
        }
        query.finish();
        if (why.isEmpty() && StorageSchema::migrate(db, &why))
            m_schemaVersion = StorageSchema::version(db);
    }
    if (!why.isEmpty()) {
        StorageCommon::closeConnection(m_settings.connectionName);
        *error = QStringLiteral("cannot open the request log %1: %2").arg(m_settings.path, why);
        return false;
    }

    m_open = true;
    m_flushTimer = new QTimer(this);
    m_flushTimer->setSingleShot(true);
    m_flushTimer->setInterval(qMax(0, m_settings.flushIntervalMs));
    connect(m_flushTimer, &QTimer::timeout, this, &RequestWriter::writePending);
    m_retentionTimer = new QTimer(this);
    m_retentionTimer->setInterval(int(StorageCommon::kHourMs));
    connect(m_retentionTimer, &QTimer::timeout, this, [this] { maybeRunRetention(m_clock.nowMs()); });
    m_retentionTimer->start();
    runRetention(nowMs);
    return true;
}

void RequestWriter::close()
{
    if (!m_open)
        return;
    writePending();
    delete m_flushTimer;
    m_flushTimer = nullptr;
    delete m_retentionTimer;
    m_retentionTimer = nullptr;
    m_open = false;
    m_statements.reset(); // before the connection they belong to
    StorageCommon::closeConnection(m_settings.connectionName);
}

void RequestWriter::writePending()
{
    if (!m_open)
        return;
    m_flushTimer->stop();
    QList<RequestRecord> pending;
    qint64 latestMs;
    bool limiterPending;
    QByteArray limiterState;
    qint64 limiterSavedAtMs;
    {
        QMutexLocker lock(&m_mutex);
        pending.swap(m_pending);
        latestMs = m_latestQueuedMs;
        limiterPending = std::exchange(m_limiterPending, false);
        limiterState = std::exchange(m_limiterState, QByteArray());
        limiterSavedAtMs = m_limiterSavedAtMs;
    }
    if (limiterPending)
        writeLimiterState(limiterState, limiterSavedAtMs);
    if (pending.isEmpty())
        return;
    const qsizetype batchSize = qMax(1, m_settings.maxBatch);
    for (qsizetype from = 0; from < pending.size(); from += batchSize)
        writeBatch(pending.mid(from, batchSize));
    maybeRunRetention(latestMs);
}

bool RequestWriter::writeBatch(const QList<RequestRecord> &batch)
{
    QSqlDatabase db = QSqlDatabase::database(m_settings.connectionName, false);
    if (!db.transaction()) {
        qCWarning(lcStorage) << "request log: cannot start a transaction, dropping" << batch.size()
                             << "records:" << db.lastError().text();
        return false;
    }

    QString why;
    if (!m_statements) {
        // Prepared once per connection: a batch is often a handful of records, and preparing four statements
        // cost more than writing them.
        auto statements = std::make_unique<Statements>(db);
        const QString counterColumns = QLatin1String(kCounterColumns);
        const QString counterUpdates = QLatin1String(kCounterUpdates);
        auto prepare = [&why](QSqlQuery &query, const QString &sql) {
            if (why.isEmpty() && !query.prepare(sql))
                why = query.lastError().text();
        };
        prepare(statements->insertRequest,
                QStringLiteral("INSERT INTO requests (started_at_ms, chain, provider, model, stream, status, "
                               "latency_ms, first_token_ms, prompt_tokens, completion_tokens, total_tokens, "
                               "tokens_estimated, attempts, error, client_key_label) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        prepare(statements->insertAttempt,
                QStringLiteral("INSERT INTO attempts (request_id, seq, provider, model, outcome, "
                               "status, latency_ms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
        prepare(statements->upsertProvider,
                QLatin1String("INSERT INTO usage_daily_provider (day, provider, model, ") + counterColumns +
                    QLatin1String(") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                  "ON CONFLICT (day, provider, model) DO UPDATE SET ") +
                    counterUpdates);
        prepare(statements->upsertChain, QLatin1String("INSERT INTO usage_daily_chain (day, chain, ") +
                                             counterColumns +
                                             QLatin1String(") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                                           "ON CONFLICT (day, chain) DO UPDATE SET ") +
                                             counterUpdates);
        if (why.isEmpty())
            m_statements = std::move(statements);
    }
    if (m_statements) {
        QSqlQuery &insertRequest = m_statements->insertRequest;
        QSqlQuery &insertAttempt = m_statements->insertAttempt;
        QSqlQuery &upsertProvider = m_statements->upsertProvider;
        QSqlQuery &upsertChain = m_statements->upsertChain;

        std::map<std::tuple<QString, QString, QString>, Counters> byProvider;
        std::map<std::pair<QString, QString>, Counters> byChain;
        for (const RequestRecord &r : batch) {
            if (!why.isEmpty())
                break;
            bindAll(insertRequest, {r.startedAtMs, text(r.chain), text(r.provider), text(r.model),
                                    int(r.stream), r.status, r.latencyMs, nullableMs(r.firstTokenMs),
                                    r.promptTokens, r.completionTokens, r.totalTokens, int(r.tokensEstimated),
                                    int(r.attempts.size()), text(r.error), text(r.clientKeyLabel)});
            if (!insertRequest.exec()) {
                why = insertRequest.lastError().text();
                break;
            }
            const qint64 id = insertRequest.lastInsertId().toLongLong();
            for (qsizetype seq = 0; seq < r.attempts.size(); ++seq) {
                const AttemptRecord &a = r.attempts.at(seq);
                bindAll(insertAttempt,
                        {id, int(seq), text(a.provider), text(a.model), AttemptRecord::outcomeName(a.outcome),
                         a.status, a.latencyMs, text(a.reason)});
                if (!insertAttempt.exec()) {
                    why = insertAttempt.lastError().text();
                    break;
                }
            }
            const QString day = StorageCommon::utcDay(r.startedAtMs);
            byProvider[{day, r.provider, r.model}].add(r);
            byChain[{day, r.chain}].add(r);
        }
        for (auto it = byProvider.cbegin(); why.isEmpty() && it != byProvider.cend(); ++it) {
            const Counters &c = it->second;
            bindAll(upsertProvider,
                    {std::get<0>(it->first), text(std::get<1>(it->first)), text(std::get<2>(it->first)),
                     c.requests, c.failures, c.waterfalls, c.promptTokens, c.completionTokens, c.totalTokens,
                     c.latencySumMs, c.lastRequestMs});
            if (!upsertProvider.exec())
                why = upsertProvider.lastError().text();
        }
        for (auto it = byChain.cbegin(); why.isEmpty() && it != byChain.cend(); ++it) {
            const Counters &c = it->second;
            bindAll(upsertChain,
                    {it->first.first, text(it->first.second), c.requests, c.failures, c.waterfalls,
                     c.promptTokens, c.completionTokens, c.totalTokens, c.latencySumMs, c.lastRequestMs});
            if (!upsertChain.exec())
                why = upsertChain.lastError().text();
        }
    }

    if (why.isEmpty() && db.commit())
        return true;
    if (why.isEmpty())
        why = db.lastError().text();
    db.rollback();
    qCWarning(lcStorage).noquote() << "request log: writing" << batch.size()
                                   << "records failed, they are dropped:" << why;
    return false;
}

void RequestWriter::writeLimiterState(const QByteArray &state, qint64 savedAtMs)
{
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    query.prepare(QStringLiteral("INSERT INTO limiter_state (id, saved_at_ms, state) VALUES (1, ?, ?) "
                                 "ON CONFLICT (id) DO UPDATE SET saved_at_ms = excluded.saved_at_ms, "
                                 "state = excluded.state"));
    bindAll(query, {savedAtMs, state});
    if (!query.exec())
        qCWarning(lcStorage).noquote() << "saving the rate-limit state failed:" << query.lastError().text();
}

QByteArray RequestWriter::loadLimiterState()
{
    {
        QMutexLocker lock(&m_mutex);
        if (m_limiterPending)
            return m_limiterState;
    }
    if (!m_open)
        return {};
    QSqlQuery query(QSqlDatabase::database(m_settings.connectionName, false));
    if (!query.exec(QStringLiteral("SELECT state FROM limiter_state WHERE id = 1"))) {
        qCWarning(lcStorage).noquote() << "reading the rate-limit state failed:" << query.lastError().text();
        return {};
    }
    return query.next() ? query.value(0).toByteArray() : QByteArray();
}

void RequestWriter::maybeRunRetention(qint64 nowMs)
{
    if (m_open && nowMs - m_lastRetentionMs >= StorageCommon::kHourMs)
        runRetention(nowMs);
}

void RequestWriter::runRetention(qint64 nowMs)
{
    if (!m_open)
        return;
    m_lastRetentionMs = nowMs;
    QSqlDatabase db = QSqlDatabase::database(m_settings.connectionName, false);
    if (!db.transaction()) {
        qCWarning(lcStorage) << "request log retention: cannot start a transaction:" << db.lastError().text();
        return;
    }
    QString why;
    qint64 deleted = 0;
    {
        QSqlQuery query(db);
        auto run = [&](const QString &sql, qint64 value, bool count) {
            if (!why.isEmpty())
                return;
            query.prepare(sql);
            query.bindValue(0, value);
            if (!query.exec())
                why = query.lastError().text();
            else if (count)
                deleted += query.numRowsAffected();
        };
        if (m_settings.retentionDays > 0) {
            const qint64 cutoff = nowMs - qint64(m_settings.retentionDays) * StorageCommon::kDayMs;
            run(QStringLiteral("DELETE FROM attempts WHERE request_id IN "
                               "(SELECT id FROM requests WHERE started_at_ms < ?)"),
                cutoff, false);
            run(QStringLiteral("DELETE FROM requests WHERE started_at_ms < ?"), cutoff, true);
        }
        if (m_settings.maxRequestRows > 0 && why.isEmpty()) {
            // The oldest id to keep: everything below it goes.
            query.prepare(QStringLiteral("SELECT id FROM requests ORDER BY id DESC LIMIT 1 OFFSET ?"));
            query.bindValue(0, m_settings.maxRequestRows - 1);
            if (!query.exec()) {
                why = query.lastError().text();
            } else if (query.next()) {
                const qint64 keepFrom = query.value(0).toLongLong();
                query.finish();
                run(QStringLiteral("DELETE FROM attempts WHERE request_id < ?"), keepFrom, false);
                run(QStringLiteral("DELETE FROM requests WHERE id < ?"), keepFrom, true);
            }
        }
    }
    if (why.isEmpty() && db.commit()) {
        if (deleted > 0)
            qCInfo(lcStorage) << "request log retention removed" << deleted << "requests";
        return;
    }
    if (why.isEmpty())
        why = db.lastError().text();
    db.rollback();
    qCWarning(lcStorage).noquote() << "request log retention failed:" << why;
}
