// The request log: schema and migrations, batched writes across restarts and threads, retention, rollups,
// every read the stats routes make, and the rate-limit tracker's saved state. Each test works on a file in
// its own temporary folder. The same tests run on PostgreSQL (CTest storage/tst_requeststore_pg sets
// CHAIN_TEST_STORAGE=postgresql): a throwaway server (support/pgserver.h) and a fresh database per test; the
// few that are about SQLite files skip there, and the PostgreSQL-only ones (replicas migrating at once, the
// server stopped and started under the writer) skip on SQLite.

#include "clock.h"
#include "pgserver.h"
#include "requeststore.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <map>
#include <memory>

namespace {

constexpr qint64 kHour = 3'600'000;
constexpr qint64 kDay = 86'400'000;
constexpr qint64 kMidnight = 1'717'200'000'000; // 2024-06-01T00:00:00Z

// A connection of the test's own, to look at the file behind the store's back.
class DirectDb
{
public:
    // A file path, or a postgresql:// URL.
    explicit DirectDb(const QString &target) : m_name(QStringLiteral("test.direct.%1").arg(++s_count))
    {
        const QUrl url(target);
        const bool pg = url.scheme() == QLatin1String("postgresql");
        QSqlDatabase db =
            QSqlDatabase::addDatabase(pg ? QStringLiteral("QPSQL") : QStringLiteral("QSQLITE"), m_name);
        if (pg) {
            db.setHostName(url.host());
            db.setPort(url.port());
            db.setUserName(url.userName());
            db.setPassword(url.password());
            db.setDatabaseName(url.path().mid(1));
        } else {
            db.setDatabaseName(target);
        }
        if (!db.open())
            qWarning() << "direct open failed:" << db.lastError().text();
    }
    ~DirectDb()
    {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }

    bool exec(const QString &sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (q.exec(sql))
            return true;
        qWarning() << "direct exec failed:" << sql << q.lastError().text();
        return false;
    }
    QList<QVariantList> rows(const QString &sql)
    {
        QList<QVariantList> out;
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (!q.exec(sql)) {
            qWarning() << "direct query failed:" << sql << q.lastError().text();
            return out;
        }
        while (q.next()) {
            QVariantList row;
            for (int i = 0; i < q.record().count(); ++i)
                row << q.value(i);
            out << row;
        }
        return out;
    }
    // Rows as text, numbers as integers: SQLite and PostgreSQL answer sums with different types.
    QList<QStringList> texts(const QString &sql)
    {
        QList<QStringList> out;
        for (const QVariantList &row : rows(sql)) {
            QStringList line;
            for (const QVariant &v : row) {
                const bool number = v.typeId() == QMetaType::Double || v.typeId() == QMetaType::LongLong ||
                                    v.typeId() == QMetaType::Int || v.typeId() == QMetaType::ULongLong;
                line << (number ? QString::number(qRound64(v.toDouble())) : v.toString());
            }
            out << line;
        }
        return out;
    }
    QVariant scalar(const QString &sql)
    {
        const auto all = rows(sql);
        return all.isEmpty() ? QVariant() : all.first().value(0);
    }

private:
    static inline int s_count = 0;
    QString m_name;
};

AttemptRecord attempt(const QString &provider, AttemptRecord::Outcome outcome, int status, qint64 latencyMs,
                      const QString &reason)
{
    AttemptRecord a;
    a.provider = provider;
    a.model = provider + QStringLiteral("-model");
    a.outcome = outcome;
    a.status = status;
    a.latencyMs = latencyMs;
    a.reason = reason;
    return a;
}

RequestRecord makeRecord(qint64 atMs, const QString &chain, const QString &provider, int status = 200,
                         qint64 prompt = 10, qint64 completion = 20, int attempts = 1, qint64 latencyMs = 100)
{
    RequestRecord r;
    r.startedAtMs = atMs;
    r.chain = chain;
    r.provider = provider;
    r.model = provider + QStringLiteral("-model");
    r.status = status;
    r.latencyMs = latencyMs;
    r.promptTokens = prompt;
    r.completionTokens = completion;
    r.totalTokens = prompt + completion;
    for (int i = 0; i < attempts; ++i) {
        const bool last = i == attempts - 1;
        r.attempts << attempt(last ? provider : QStringLiteral("other%1").arg(i),
                              last ? AttemptRecord::Outcome::Success : AttemptRecord::Outcome::RateLimited,
                              last ? status : 429, 10 * (i + 1),
                              last ? QString() : QStringLiteral("429 rate limited"));
    }
    return r;
}

QList<qint64> ids(const QList<StoredRequest> &list)
{
    QList<qint64> out;
    for (const auto &r : list)
        out << r.id;
    return out;
}

QList<qint64> idRange(qint64 from, qint64 downTo)
{
    QList<qint64> out;
    for (qint64 id = from; id >= downTo; --id)
        out << id;
    return out;
}

// The reference's tables (v1: request_logs, usage_by_provider/usage_by_chain kept by triggers; v2 adds
// error_message), as a fixture of what a user's existing observability.db looks like.
void writeReferenceDatabase(const QString &path, bool v2)
{
    DirectDb db(path);
    const QString usage = QStringLiteral(
        "(%1 TEXT PRIMARY KEY, total_requests INTEGER NOT NULL DEFAULT 0, total_tokens INTEGER NOT NULL "
        "DEFAULT 0, "
        "total_prompt_tokens INTEGER NOT NULL DEFAULT 0, total_completion_tokens INTEGER NOT NULL DEFAULT 0, "
        "last_request_timestamp INTEGER)");
    const QString trigger = QStringLiteral(
        "CREATE TRIGGER %1 AFTER INSERT ON request_logs BEGIN "
        "INSERT INTO %2 (%3, total_requests, total_tokens, total_prompt_tokens, total_completion_tokens, "
        "last_request_timestamp) VALUES (NEW.%4, 1, NEW.total_tokens, NEW.prompt_tokens, "
        "NEW.completion_tokens, "
        "NEW.timestamp) ON CONFLICT(%3) DO UPDATE SET total_requests = total_requests + 1, "
        "total_tokens = total_tokens + NEW.total_tokens, "
        "total_prompt_tokens = total_prompt_tokens + NEW.prompt_tokens, "
        "total_completion_tokens = total_completion_tokens + NEW.completion_tokens, "
        "last_request_timestamp = MAX(last_request_timestamp, NEW.timestamp); END");
    QVERIFY(db.exec(QStringLiteral(
        "CREATE TABLE request_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp INTEGER NOT NULL, "
        "chain_name TEXT NOT NULL, provider_id TEXT NOT NULL, model TEXT NOT NULL, "
        "prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0, "
        "total_tokens INTEGER NOT NULL DEFAULT 0, latency_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, "
        "attempts INTEGER NOT NULL)")));
    QVERIFY(db.exec(QStringLiteral("CREATE TABLE usage_by_provider ") +
                    usage.arg(QStringLiteral("provider_id"))));
    QVERIFY(
        db.exec(QStringLiteral("CREATE TABLE usage_by_chain ") + usage.arg(QStringLiteral("chain_name"))));
    QVERIFY(db.exec(QStringLiteral("CREATE INDEX idx_logs_timestamp ON request_logs(timestamp DESC)")));
    QVERIFY(db.exec(trigger.arg(QStringLiteral("update_provider_usage"), QStringLiteral("usage_by_provider"),
                                QStringLiteral("provider_id"), QStringLiteral("provider_id"))));
    QVERIFY(db.exec(trigger.arg(QStringLiteral("update_chain_usage"), QStringLiteral("usage_by_chain"),
                                QStringLiteral("chain_name"), QStringLiteral("chain_name"))));
    if (v2)
        QVERIFY(db.exec(QStringLiteral("ALTER TABLE request_logs ADD COLUMN error_message TEXT")));
    QVERIFY(db.exec(QStringLiteral("PRAGMA user_version = %1").arg(v2 ? 2 : 1)));

    const QString columns =
        QStringLiteral("timestamp, chain_name, provider_id, model, prompt_tokens, "
                       "completion_tokens, total_tokens, latency_ms, http_status, attempts");
    QVERIFY(db.exec(
        QStringLiteral("INSERT INTO request_logs (%1) VALUES (%2, 'default', 'groq', 'llama', 10, 20, "
                       "30, 120, 200, 1)")
            .arg(columns)
            .arg(kMidnight - 2 * kDay + 5000)));
    QVERIFY(db.exec(
        QStringLiteral("INSERT INTO request_logs (%1) VALUES (%2, 'default', 'openrouter', 'free', 0, "
                       "0, 0, 0, 502, 3)")
            .arg(columns)
            .arg(kMidnight - kDay)));
    QVERIFY(
        db.exec(QStringLiteral("INSERT INTO request_logs (%1) VALUES (%2, 'fast', 'groq', 'llama', 5, 5, 10, "
                               "81, 200, 2)")
                    .arg(columns)
                    .arg(kMidnight + 1000)));
    if (v2)
        QVERIFY(db.exec(QStringLiteral("UPDATE request_logs SET error_message = 'All providers exhausted' "
                                       "WHERE id = 2")));
}

} // namespace

Q_DECLARE_METATYPE(RequestQuery)

class TestRequestStore : public QObject
{
    Q_OBJECT

private:
    QString dbPath() const { return m_dir->filePath(QStringLiteral("data/observability.db")); }
    // What DirectDb opens: the file, or this test's PostgreSQL database.
    QString target() const { return m_pg ? m_url : dbPath(); }
    RequestStore::Options options(int flushIntervalMs = 60'000) const
    {
        RequestStore::Options o;
        o.path = dbPath();
        o.storage = m_pg ? m_url : QString();
        o.flushIntervalMs = flushIntervalMs; // long by default: the tests flush when they mean to
        return o;
    }
    std::unique_ptr<RequestStore> openStore(const RequestStore::Options &o, const Clock &clock)
    {
        auto store = std::make_unique<RequestStore>(o, clock);
        QString error;
        if (!store->open(&error)) {
            qWarning() << error;
            return nullptr;
        }
        return store;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    const bool m_pg = qEnvironmentVariable("CHAIN_TEST_STORAGE") == QLatin1String("postgresql");
    std::unique_ptr<PgServer> m_server;
    QString m_url;
    int m_databases = 0;

private slots:
    void initTestCase()
    {
        if (!m_pg)
            return;
        if (!PgServer::missingReason().isEmpty())
            QSKIP(qPrintable(PgServer::missingReason()));
        m_server = std::make_unique<PgServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
    }
    void cleanupTestCase() { m_server.reset(); }
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        if (m_pg) {
            const QString name = QStringLiteral("t%1").arg(++m_databases);
            QString error;
            QVERIFY2(m_server->createDatabase(name, &error), qPrintable(error));
            m_url = m_server->url(name);
        }
    }
    void cleanup() { m_dir.reset(); }

    // ---- schema
    // -------------------------------------------------------------------------------------------------

    void emptyFileGetsTheCurrentSchema()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        ManualClock clock(kMidnight);
        {
            auto store = openStore(options(), clock); // also creates the missing data/ folder
            QVERIFY(store);
            QCOMPARE(store->schemaVersion(), RequestStore::kSchemaVersion);
            QVERIFY(store->isOpen());
        }
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA user_version")).toInt(), RequestStore::kSchemaVersion);
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        for (const char *table : {"requests", "attempts", "usage_daily_provider", "usage_daily_chain",
                                  "limiter_state", "chain_config"}) {
            QVERIFY2(db.scalar(QStringLiteral(
                                   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '") +
                               QLatin1String(table) + QLatin1Char('\''))
                             .toInt() == 1,
                     table);
        }
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                                          "name LIKE 'idx_requests_%'"))
                     .toInt(),
                 4);
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_logs'"))
                     .toInt(),
                 0);
    }

    void reopeningIsIdempotent()
    {
        ManualClock clock(kMidnight);
        for (int i = 0; i < 3; ++i) {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            QCOMPARE(store->schemaVersion(), RequestStore::kSchemaVersion);
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        }
        auto store = openStore(options(), clock);
        QCOMPARE(store->requestRowCount(), 3);
    }

    void referenceFileIsImported_data()
    {
        QTest::addColumn<bool>("v2");
        QTest::newRow("reference v1") << false;
        QTest::newRow("reference v2 (error_message)") << true;
    }
    void referenceFileIsImported()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        QFETCH(bool, v2);
        QDir().mkpath(QFileInfo(dbPath()).absolutePath());
        writeReferenceDatabase(dbPath(), v2);
        if (QTest::currentTestFailed())
            return;

        ManualClock clock(kMidnight + 2 * kHour);
        {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            QCOMPARE(store->schemaVersion(), RequestStore::kSchemaVersion);

            const auto rows = store->requests({});
            QCOMPARE(ids(rows), (QList<qint64>{3, 2, 1}));
            QCOMPARE(rows.at(0).record.chain, QStringLiteral("fast"));
            QCOMPARE(rows.at(0).attemptCount, 2);
            QCOMPARE(rows.at(0).record.latencyMs, 81);
            QCOMPARE(rows.at(0).record.firstTokenMs, -1);
            QCOMPARE(rows.at(1).record.status, 502);
            QCOMPARE(rows.at(1).record.error, v2 ? QStringLiteral("All providers exhausted") : QString());
            QCOMPARE(rows.at(2).record.startedAtMs, kMidnight - 2 * kDay + 5000);
            QCOMPARE(rows.at(2).record.totalTokens, 30);
            QVERIFY(!rows.at(2).record.tokensEstimated);

            const auto groq = store->providerUsage(QStringLiteral("groq"));
            QVERIFY(groq);
            QCOMPARE(groq->requests, 2);
            QCOMPARE(groq->totalTokens, 40);
            QCOMPARE(groq->promptTokens, 15);
            QCOMPARE(groq->lastRequestMs, kMidnight + 1000);
            QCOMPARE(store->chainUsage(QStringLiteral("default"))->failures, 1);

            const StatsSummary summary = store->summary();
            QCOMPARE(summary.totalRequests, 3);
            QCOMPARE(summary.waterfallRequests, 2);
            QCOMPARE(summary.avgLatencyMs.value_or(-1), 67); // (120 + 0 + 81) / 3
            QCOMPARE(summary.requestsToday, 1);

            store->record(makeRecord(kMidnight + kHour, QStringLiteral("fast"), QStringLiteral("groq")));
            store->flush();
            QCOMPARE(ids(store->requests({})).first(), 4); // ids continue after the reference's
        }

        // Reopening imports nothing twice; the reference's own tables, totals and triggers are left as they
        // were.
        auto store = openStore(options(), clock);
        QVERIFY(store);
        QCOMPARE(store->requestRowCount(), 4);
        QCOMPARE(store->providerUsage(QStringLiteral("groq"))->requests, 3);
        store.reset();
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA user_version")).toInt(), RequestStore::kSchemaVersion);
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM request_logs")).toInt(), 3);
        QCOMPARE(db.scalar(QStringLiteral(
                               "SELECT total_requests FROM usage_by_provider WHERE provider_id = 'groq'"))
                     .toInt(),
                 2);
        QCOMPARE(
            db.scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")).toInt(),
            2);
    }

    void newerSchemaIsRefused()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        QDir().mkpath(QFileInfo(dbPath()).absolutePath());
        {
            DirectDb db(target());
            QVERIFY(db.exec(QStringLiteral("PRAGMA user_version = 99")));
        }
        ManualClock clock;
        RequestStore store(options(), clock);
        QString error;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("newer than this build")));
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(dbPath()), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("99")), qPrintable(error));
        QVERIFY(!store.isOpen());
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 99); // untouched
    }

    void notADatabaseFailsCleanly()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        QDir().mkpath(QFileInfo(dbPath()).absolutePath());
        QFile file(dbPath());
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(4096, 'x'));
        file.close();
        ManualClock clock;
        RequestStore store(options(), clock);
        QString error;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("cannot open the request log")));
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(dbPath()), qPrintable(error));
    }

    void unwritablePathFailsCleanly()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        // A folder that cannot be made (a file is in the way): this fails for root too.
        QFile blocker(m_dir->filePath(QStringLiteral("blocker")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const QString path = m_dir->filePath(QStringLiteral("blocker/sub/log.db"));
        ManualClock clock;
        RequestStore::Options o = options();
        o.path = path;
        RequestStore store(o, clock);
        QString error;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("cannot create the folder")));
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(path), qPrintable(error));
        QVERIFY(!store.isOpen());

        // Everything else still answers, emptily, and nothing crashes.
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("not open")));
        store.record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
        store.record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p"))); // logged once only
        store.flush();
        store.runRetention();
        QCOMPARE(store.requestRowCount(), 0);
        QCOMPARE(store.summary().totalRequests, 0);
        QVERIFY(store.requests({}).isEmpty());

        // A folder where the file should be.
        o.path = m_dir->path();
        RequestStore onFolder(o, clock);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("cannot open the request log")));
        QVERIFY(!onFolder.open(&error));
        QVERIFY2(error.contains(m_dir->path()), qPrintable(error));
    }

    // ---- rate-limit state (LimiterStateStore)
    // -------------------------------------------------------------------------------------

    void migrationFromVersion3KeepsRows()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        ManualClock clock(kMidnight);
        {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            store->record(
                makeRecord(kMidnight + 1, QStringLiteral("c"), QStringLiteral("groq"), 200, 1, 2, 2));
            store->record(makeRecord(kMidnight + 2, QStringLiteral("c"), QStringLiteral("cerebras")));
        }
        {
            // What a file written by an older build looks like: version 3, no limiter_state, no replica.
            DirectDb db(target());
            QVERIFY(db.exec(QStringLiteral("DROP TABLE limiter_state")));
            QVERIFY(db.exec(QStringLiteral("ALTER TABLE requests DROP COLUMN replica")));
            QVERIFY(db.exec(QStringLiteral("DROP TABLE chain_config")));
            QVERIFY(db.exec(QStringLiteral("PRAGMA user_version = 3")));
        }
        auto store = openStore(options(), clock);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), RequestStore::kSchemaVersion);
        QCOMPARE(store->requestRowCount(), 2);
        QCOMPARE(store->request(1)->record.attempts.size(), 2);
        QCOMPARE(store->providerUsage(QStringLiteral("groq"))->totalTokens, 3);
        QCOMPARE(store->summary().totalRequests, 2);
        QVERIFY(store->loadLimiterState().isEmpty());
        store->saveLimiterState(QByteArrayLiteral("{\"v\":1}"));
        store->flush();
        store.reset();
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA user_version")).toInt(), RequestStore::kSchemaVersion);
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM requests")).toInt(), 2);
        QCOMPARE(db.scalar(QStringLiteral("SELECT state FROM limiter_state")).toByteArray(),
                 QByteArrayLiteral("{\"v\":1}"));
    }

    void migrationFromVersion4AddsTheReplica()
    {
        if (m_pg)
            QSKIP("about SQLite files");
        ManualClock clock(kMidnight);
        {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            store->record(makeRecord(kMidnight + 1, QStringLiteral("c"), QStringLiteral("groq")));
        }
        {
            // The previous build's file: version 4, rows without a replica.
            DirectDb db(target());
            QVERIFY(db.exec(QStringLiteral("ALTER TABLE requests DROP COLUMN replica")));
            QVERIFY(db.exec(QStringLiteral("DROP TABLE chain_config")));
            QVERIFY(db.exec(QStringLiteral("PRAGMA user_version = 4")));
        }
        RequestStore::Options o = options();
        o.replica = QStringLiteral("laptop:3429");
        auto store = openStore(o, clock);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), RequestStore::kSchemaVersion);
        store->record(makeRecord(kMidnight + 2, QStringLiteral("c"), QStringLiteral("groq")));
        store->setReplica(QStringLiteral("laptop:4000"));
        store->record(makeRecord(kMidnight + 3, QStringLiteral("c"), QStringLiteral("groq")));
        store->flush();
        QCOMPARE(store->request(1)->record.replica, QString()); // written before the column existed
        QCOMPARE(store->request(2)->record.replica, QStringLiteral("laptop:3429"));
        QCOMPARE(store->requests(RequestQuery()).first().record.replica, QStringLiteral("laptop:4000"));
        QCOMPARE(store->storageStatus().backend, QStringLiteral("sqlite"));
        QCOMPARE(store->storageStatus().replica, QStringLiteral("laptop:4000"));
        QVERIFY(store->storageStatus().available);
    }

    void limiterStateRoundTrip()
    {
        ManualClock clock(kMidnight + 77);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        QVERIFY(store->loadLimiterState().isEmpty()); // nothing saved yet

        // Binary-safe: the blob comes back byte for byte.
        QByteArray state = QByteArrayLiteral("{\"cooldowns\":[{\"provider\":\"groq\",\"untilMs\":1}]}");
        state.append('\0');
        state.append(QByteArray(70'000, 'x'));
        store->saveLimiterState(state);
        store->flush();
        QCOMPARE(store->loadLimiterState(), state);

        DirectDb db(target());
        const auto rows = db.rows(QStringLiteral("SELECT id, saved_at_ms, length(state) FROM limiter_state"));
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.at(0).value(0).toInt(), 1);
        QCOMPARE(rows.at(0).value(1).toLongLong(), kMidnight + 77);
        QCOMPARE(rows.at(0).value(2).toLongLong(), qint64(state.size()));
    }

    void limiterSaveIsWrittenLaterByTheWriter()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(150), clock);
        QVERIFY(store);
        store->saveLimiterState(QByteArrayLiteral("first"));
        DirectDb db(target());
        const QString count = QStringLiteral("SELECT COUNT(*) FROM limiter_state");
        QCOMPARE(db.scalar(count).toInt(), 0);                           // handed over, not yet written
        QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("first")); // but already what a load sees
        // The writer's flush timer writes it without anyone asking.
        QTRY_COMPARE_WITH_TIMEOUT(db.scalar(count).toInt(), 1, 5000);
        QCOMPARE(db.scalar(QStringLiteral("SELECT state FROM limiter_state")).toByteArray(),
                 QByteArrayLiteral("first"));
    }

    void lastLimiterSaveWins()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->saveLimiterState(QByteArrayLiteral("a"));
        clock.advance(1000);
        store->saveLimiterState(QByteArrayLiteral("b"));
        QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("b"));
        store->flush();
        QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("b"));
        clock.advance(1000);
        store->saveLimiterState(QByteArrayLiteral("c"));
        store->flush();

        // Saves from other threads too: the newest one handed over is the one kept.
        QThread *thread = QThread::create([&store] {
            for (int i = 0; i < 50; ++i)
                store->saveLimiterState(QByteArray::number(i));
        });
        thread->start();
        QVERIFY(thread->wait(10'000));
        delete thread;
        store->flush();
        QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("49"));
        store.reset();

        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM limiter_state")).toInt(), 1);
        QCOMPARE(db.scalar(QStringLiteral("SELECT state FROM limiter_state")).toByteArray(),
                 QByteArrayLiteral("49"));
    }

    void limiterStateSurvivesCloseAndReopen()
    {
        ManualClock clock(kMidnight);
        {
            auto store = openStore(options(600'000), clock);
            QVERIFY(store);
            store->saveLimiterState(QByteArrayLiteral("older"));
            store->flush();
            store->saveLimiterState(QByteArrayLiteral("at shutdown"));
            // no flush: closing commits the last save
        }
        {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("at shutdown"));
            store->record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
        }
        auto store = openStore(options(), clock);
        QVERIFY(store);
        QCOMPARE(store->loadLimiterState(), QByteArrayLiteral("at shutdown")); // records leave it alone
        QCOMPARE(store->requestRowCount(), 1);
    }

    void limiterStateWithoutAnOpenStore()
    {
        ManualClock clock(kMidnight);
        RequestStore store(options(), clock); // never opened
        store.saveLimiterState(QByteArrayLiteral("lost"));
        QVERIFY(store.loadLimiterState().isEmpty());
        QVERIFY(!QFile::exists(dbPath()));
    }

    // ---- PostgreSQL: several replicas, the server away
    // ------------------------------------------------------------------------------------

    void replicasStartingTogetherMigrateOnce()
    {
        if (!m_pg)
            QSKIP("PostgreSQL only");
        ManualClock clock(kMidnight);
        constexpr int kReplicas = 4;
        std::vector<std::unique_ptr<RequestStore>> stores(kReplicas);
        std::vector<QString> errors(kReplicas);
        QList<QThread *> threads;
        for (int i = 0; i < kReplicas; ++i) {
            threads << QThread::create([&, i] {
                RequestStore::Options o = options();
                o.replica = QStringLiteral("replica-%1").arg(i);
                stores[i] = std::make_unique<RequestStore>(o, clock);
                if (!stores[i]->open(&errors[i]))
                    stores[i].reset();
            });
        }
        for (QThread *t : threads)
            t->start();
        for (QThread *t : threads) {
            QVERIFY(t->wait(60'000));
            delete t;
        }
        for (int i = 0; i < kReplicas; ++i) {
            QVERIFY2(stores[i], qPrintable(errors[i]));
            QCOMPARE(stores[i]->schemaVersion(), RequestStore::kSchemaVersion);
            QVERIFY(stores[i]->storageStatus().available);
        }
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM chain_schema")).toInt(), 1);
        QCOMPARE(db.scalar(QStringLiteral("SELECT version FROM chain_schema")).toInt(),
                 RequestStore::kSchemaVersion);
        for (const char *table : {"requests", "attempts", "usage_daily_provider", "usage_daily_chain",
                                  "limiter_state", "chain_config"})
            QVERIFY2(
                db.scalar(QStringLiteral("SELECT to_regclass('%1') IS NOT NULL").arg(QLatin1String(table)))
                    .toBool(),
                table);

        // Every replica writes its rows; every replica reads them all.
        for (int i = 0; i < kReplicas; ++i) {
            stores[i]->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p%1").arg(i)));
            stores[i]->flush();
        }
        for (int i = 0; i < kReplicas; ++i) {
            QCOMPARE(stores[i]->summary().totalRequests, kReplicas);
            QCOMPARE(stores[i]->providerUsage().size(), kReplicas);
            const QList<StoredRequest> rows = stores[i]->requests(RequestQuery());
            QCOMPARE(rows.size(), kReplicas);
            QStringList names;
            for (const StoredRequest &r : rows)
                names << r.record.replica;
            QCOMPARE(names, (QStringList{QStringLiteral("replica-3"), QStringLiteral("replica-2"),
                                         QStringLiteral("replica-1"), QStringLiteral("replica-0")}));
        }
    }

    void newerPostgreSqlSchemaIsRefused()
    {
        if (!m_pg)
            QSKIP("PostgreSQL only");
        {
            DirectDb db(target());
            QVERIFY(db.exec(QStringLiteral("CREATE TABLE chain_schema (version INTEGER NOT NULL)")));
            QVERIFY(db.exec(QStringLiteral("INSERT INTO chain_schema VALUES (99)")));
        }
        ManualClock clock(kMidnight);
        RequestStore store(options(), clock);
        QString error;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("newer than this build")));
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(QStringLiteral("schema version 99")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("postgresql://chain@127.0.0.1:")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1String(PgServer::kPassword)), qPrintable(error));
    }

    void serverAwayBuffersRowsAndWritesThemWhenBack()
    {
        if (!m_pg)
            QSKIP("PostgreSQL only");
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        for (int i = 0; i < 3; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        store->flush();
        QCOMPARE(store->requestRowCount(), 3);

        QString error;
        QVERIFY2(m_server->stop(&error), qPrintable(error));
        for (int i = 0; i < 5; ++i)
            store->record(makeRecord(kMidnight + 10 + i, QStringLiteral("c"), QStringLiteral("p")));
        store->flush(); // fails: the batch goes back to the queue
        StorageStatus status = store->storageStatus();
        QVERIFY(!status.available);
        QVERIFY(!status.reason.isEmpty());
        QVERIFY2(!status.reason.contains(QLatin1String(PgServer::kPassword)), qPrintable(status.reason));
        QCOMPARE(status.bufferedRows, 5);
        QCOMPARE(status.lostRows, 0);
        QVERIFY(status.downSinceMs > 0);
        // Reads fail softly while it is away.
        QCOMPARE(store->summary().totalRequests, 0);

        QVERIFY2(m_server->start(&error), qPrintable(error));
        // The writer reconnects by itself (backoff) and writes the buffer; reads reconnect too.
        QTRY_VERIFY_WITH_TIMEOUT(store->storageStatus().available, 20'000);
        store->flush();
        QCOMPARE(store->storageStatus().bufferedRows, 0);
        QCOMPARE(store->requestRowCount(), 8);
        QCOMPARE(store->summary().totalRequests, 8);
        QCOMPARE(store->storageStatus().lostRows, 0);
    }

    void serverDownAtStartIsNoFailure()
    {
        if (!m_pg)
            QSKIP("PostgreSQL only");
        QString error;
        QVERIFY2(m_server->stop(&error), qPrintable(error));
        ManualClock clock(kMidnight);
        RequestStore::Options o = options();
        o.maxBufferedRows = 4;
        auto store = openStore(o, clock);
        QVERIFY(store); // serving; the rows wait
        QVERIFY(!store->storageStatus().available);
        for (int i = 0; i < 6; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        QCOMPARE(store->storageStatus().bufferedRows, 4);
        QCOMPARE(store->storageStatus().lostRows, 2); // beyond the bound: dropped and counted
        QVERIFY2(m_server->start(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(store->storageStatus().available, 20'000);
        store->flush();
        QCOMPARE(store->requestRowCount(), 4);
        QCOMPARE(store->schemaVersion(), 0); // unknown at open; the writer migrated when it connected
        QCOMPARE(store->summary().totalRequests, 4);
    }

    void wrongPasswordNeverShowsIt()
    {
        if (!m_pg)
            QSKIP("PostgreSQL only");
        ManualClock clock(kMidnight);
        RequestStore::Options o = options();
        o.storage.replace(QLatin1String(PgServer::kPassword), QStringLiteral("wrong-pw-123"));
        auto store = openStore(o, clock);
        QVERIFY(store);
        const StorageStatus status = store->storageStatus();
        QVERIFY(!status.available);
        QVERIFY2(status.reason.contains(QStringLiteral("password")), qPrintable(status.reason));
        QVERIFY2(!status.reason.contains(QStringLiteral("wrong-pw-123")), qPrintable(status.reason));
        QVERIFY(!status.location.contains(QStringLiteral("wrong-pw-123")));
    }

    // ---- writing
    // ------------------------------------------------------------------------------------------------

    void restartKeepsTheRequestLog()
    {
        ManualClock clock(kMidnight);
        RequestRecord streamed = makeRecord(kMidnight + 5, QStringLiteral("default"), QStringLiteral("groq"),
                                            200, 12, 34, 3, 1234);
        streamed.stream = true;
        streamed.firstTokenMs = 321;
        streamed.tokensEstimated = true;
        streamed.clientKeyLabel = QStringLiteral("key 2");
        streamed.attempts[0].outcome = AttemptRecord::Outcome::Skipped;
        streamed.attempts[0].status = 0;
        streamed.attempts[0].reason = QStringLiteral("skipped (on cooldown)");
        RequestRecord failed =
            makeRecord(kMidnight + 6, QStringLiteral("default"), QStringLiteral("cerebras"), 502, 0, 0, 2, 0);
        failed.error = QStringLiteral("All providers exhausted in chain \"default\"");
        failed.attempts[1].outcome = AttemptRecord::Outcome::Timeout;
        {
            auto store = openStore(options(), clock);
            QVERIFY(store);
            store->record(streamed);
            store->record(failed);
            // no flush: the destructor commits
        }
        auto store = openStore(options(), clock);
        QVERIFY(store);
        QCOMPARE(store->requestRowCount(), 2);

        const auto first = store->request(1);
        QVERIFY(first);
        const RequestRecord &r = first->record;
        QCOMPARE(r.startedAtMs, streamed.startedAtMs);
        QCOMPARE(r.chain, streamed.chain);
        QCOMPARE(r.provider, streamed.provider);
        QCOMPARE(r.model, streamed.model);
        QCOMPARE(r.stream, true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.latencyMs, 1234);
        QCOMPARE(r.firstTokenMs, 321);
        QCOMPARE(r.promptTokens, 12);
        QCOMPARE(r.completionTokens, 34);
        QCOMPARE(r.totalTokens, 46);
        QCOMPARE(r.tokensEstimated, true);
        QCOMPARE(r.clientKeyLabel, QStringLiteral("key 2"));
        QCOMPARE(r.error, QString());
        QCOMPARE(first->attemptCount, 3);
        QCOMPARE(r.attempts.size(), 3);
        QCOMPARE(r.attempts.at(0).outcome, AttemptRecord::Outcome::Skipped);

        const auto second = store->request(2);
        QVERIFY(second);
        QCOMPARE(second->record.stream, false);
        QCOMPARE(second->record.firstTokenMs, -1);
        QCOMPARE(second->record.tokensEstimated, false);
        QCOMPARE(second->record.error, failed.error);
        QCOMPARE(second->record.attempts.at(1).outcome, AttemptRecord::Outcome::Timeout);
    }

    void flushCommitsWhatIsQueued()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(60'000), clock);
        QVERIFY(store);
        store->record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
        QTest::qWait(50);
        QCOMPARE(store->requestRowCount(), 0); // waiting for its batch
        store->flush();
        QCOMPARE(store->requestRowCount(), 1);
        store->flush(); // nothing queued: a no-op
        QCOMPARE(store->requestRowCount(), 1);
    }

    void timerAndFullBatchesWriteWithoutFlush()
    {
        ManualClock clock(kMidnight);
        {
            auto store = openStore(options(20), clock);
            QVERIFY(store);
            store->record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
            QTRY_COMPARE(store->requestRowCount(), 1);
        }
        RequestStore::Options o = options(60'000);
        o.path = m_dir->filePath(QStringLiteral("second.db"));
        if (m_pg) {
            const QString name = QStringLiteral("t%1b").arg(m_databases);
            QString error;
            QVERIFY2(m_server->createDatabase(name, &error), qPrintable(error));
            o.storage = m_server->url(name);
        }
        o.maxBatch = 10;
        auto store = openStore(o, clock);
        QVERIFY(store);
        for (int i = 0; i < 10; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        QTRY_COMPARE(store->requestRowCount(), 10); // a full batch goes at once
        for (int i = 0; i < 5; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        QTest::qWait(50);
        QCOMPARE(store->requestRowCount(), 10);
        store->flush();
        QCOMPARE(store->requestRowCount(), 15);
    }

    void recordsFromOtherThreads()
    {
        ManualClock clock(kMidnight);
        RequestStore::Options o = options(5);
        o.maxBatch = 50;
        auto store = openStore(o, clock);
        QVERIFY(store);
        QList<QThread *> threads;
        for (int t = 0; t < 4; ++t) {
            threads << QThread::create([&store, t] {
                for (int i = 0; i < 250; ++i)
                    store->record(
                        makeRecord(kMidnight + i, QStringLiteral("chain%1").arg(t), QStringLiteral("p")));
            });
            threads.last()->start();
        }
        for (QThread *thread : threads) {
            QVERIFY(thread->wait(10'000));
            delete thread;
        }
        store->flush();
        QCOMPARE(store->requestRowCount(), 1000);
        QCOMPARE(store->chainUsage(QStringLiteral("chain2"))->requests, 250);
    }

    void readsFromAnotherThreadUseTheirOwnConnection()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
        store->flush();
        const auto readers = [] {
            int n = 0;
            for (const QString &name : QSqlDatabase::connectionNames())
                n += name.contains(QLatin1String(".read.")) ? 1 : 0;
            return n;
        };
        QCOMPARE(store->requestRowCount(), 1); // this thread's reader
        const int before = readers();
        qint64 seen = -1;
        int during = 0;
        std::unique_ptr<QThread> thread(QThread::create([&] {
            seen = store->requests({}).size() + store->summary().totalRequests;
            during = readers();
        }));
        thread->start();
        QVERIFY(thread->wait(10'000));
        QCOMPARE(seen, 2);
        QCOMPARE(during, before + 1);
        QCOMPARE(readers(), before); // removed when that thread finished
    }

    void destructorCommitsTheQueue()
    {
        ManualClock clock(kMidnight);
        {
            RequestStore::Options o = options(600'000);
            o.maxBatch = 7; // several transactions on the way out
            auto store = openStore(o, clock);
            QVERIFY(store);
            for (int i = 0; i < 100; ++i)
                store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        }
        auto store = openStore(options(), clock);
        QCOMPARE(store->requestRowCount(), 100);
        QCOMPARE(store->summary().totalRequests, 100);
    }

    void recordWithoutTimeGetsTheClocks()
    {
        ManualClock clock(kMidnight + 42);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->record(makeRecord(0, QStringLiteral("c"), QStringLiteral("p")));
        store->flush();
        QCOMPARE(store->request(1)->record.startedAtMs, kMidnight + 42);
    }

    void failedWriteIsLoggedAndSurvived()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->record(makeRecord(kMidnight, QStringLiteral("ok"), QStringLiteral("p")));
        store->flush();
        {
            DirectDb db(target());
            if (m_pg) {
                QVERIFY(db.exec(
                    QStringLiteral("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                   "IF NEW.chain = 'boom' THEN RAISE EXCEPTION 'disk says no'; END IF; "
                                   "RETURN NEW; END $$")));
                QVERIFY(db.exec(QStringLiteral(
                    "CREATE TRIGGER boom BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION boom()")));
            } else {
                QVERIFY(db.exec(
                    QStringLiteral("CREATE TRIGGER boom BEFORE INSERT ON requests WHEN NEW.chain = 'boom' "
                                   "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")));
            }
        }
        store->record(makeRecord(kMidnight, QStringLiteral("ok"), QStringLiteral("p")));
        store->record(makeRecord(kMidnight, QStringLiteral("boom"), QStringLiteral("p")));
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("writing 2 records failed.*disk says no")));
        store->flush();
        // The whole batch was rolled back, rollups included; the store goes on.
        QCOMPARE(store->requestRowCount(), 1);
        QCOMPARE(store->summary().totalRequests, 1);
        store->record(makeRecord(kMidnight, QStringLiteral("ok"), QStringLiteral("p")));
        store->flush();
        QCOMPARE(store->requestRowCount(), 2);
        QCOMPARE(store->chainUsage(QStringLiteral("ok"))->requests, 2);
    }

    // ---- retention
    // ----------------------------------------------------------------------------------------------

    void retentionByDays()
    {
        ManualClock clock(kMidnight + 12 * kHour);
        const qint64 now = clock.nowMs();
        RequestStore::Options o = options();
        o.retentionDays = 30;
        auto store = openStore(o, clock);
        QVERIFY(store);
        for (qint64 at : {now - 40 * kDay, now - 31 * kDay, now - 29 * kDay, now - kHour})
            store->record(makeRecord(at, QStringLiteral("c"), QStringLiteral("p"), 200, 10, 20, 2));
        store->flush();
        QCOMPARE(store->requestRowCount(), 4);

        store->runRetention();
        QCOMPARE(ids(store->requests({})), (QList<qint64>{4, 3}));
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM attempts")).toInt(), 4);
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM attempts WHERE request_id NOT IN "
                                          "(SELECT id FROM requests)"))
                     .toInt(),
                 0);
        // The rollups keep the totals of what was pruned.
        QCOMPARE(store->providerUsage(QStringLiteral("p"))->requests, 4);
        QCOMPARE(store->summary().totalRequests, 4);

        clock.advance(2 * kDay);
        store->runRetention();
        QCOMPARE(ids(store->requests({})), (QList<qint64>{4}));
    }

    void retentionByRowCountKeepsTheNewest()
    {
        ManualClock clock(kMidnight);
        RequestStore::Options o = options();
        o.maxRequestRows = 5;
        auto store = openStore(o, clock);
        QVERIFY(store);
        for (int i = 0; i < 8; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p"), 200, 1, 1, 2));
        store->flush();
        QCOMPARE(store->requestRowCount(), 8); // less than an hour since the last run: not yet
        store->runRetention();
        QCOMPARE(ids(store->requests({})), idRange(8, 4));
        DirectDb db(target());
        QCOMPARE(db.scalar(QStringLiteral("SELECT MIN(request_id) FROM attempts")).toInt(), 4);
        QCOMPARE(db.scalar(QStringLiteral("SELECT COUNT(*) FROM attempts")).toInt(), 10);
        QCOMPARE(store->summary().totalRequests, 8);
    }

    void retentionRunsAtOpenAndHourlyOnWrites()
    {
        ManualClock clock(kMidnight);
        RequestStore::Options o = options();
        o.retentionDays = 1;
        o.maxRequestRows = 3;
        {
            auto store = openStore(o, clock);
            QVERIFY(store);
            store->record(makeRecord(kMidnight - 2 * kDay, QStringLiteral("c"), QStringLiteral("p")));
            store->record(makeRecord(kMidnight, QStringLiteral("c"), QStringLiteral("p")));
        }
        {
            auto store = openStore(o, clock);
            QVERIFY(store);
            QCOMPARE(ids(store->requests({})), (QList<qint64>{2}));
            for (int i = 0; i < 4; ++i)
                store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
            store->flush();
            QCOMPARE(store->requestRowCount(), 5);
            clock.advance(kHour);
            store->record(makeRecord(clock.nowMs(), QStringLiteral("c"), QStringLiteral("p")));
            store->flush(); // an hour after the last run: this write triggers it
            QCOMPARE(ids(store->requests({})), idRange(7, 5));
        }
    }

    // ---- reading
    // ------------------------------------------------------------------------------------------------

    void rollupsEqualTheSumOfRows()
    {
        ManualClock clock(kMidnight + 5 * kDay);
        RequestStore::Options o = options();
        o.maxBatch = 37; // rows of one day+provider spread over several transactions
        auto store = openStore(o, clock);
        QVERIFY(store);
        QRandomGenerator random(7);
        const QStringList providers = {QStringLiteral("groq"), QStringLiteral("openrouter"),
                                       QStringLiteral("cerebras")};
        const QStringList chains = {QStringLiteral("default"), QStringLiteral("fast"), QStringLiteral("big")};
        const QList<int> statuses = {200, 200, 200, 429, 502, 503, 499};
        for (int i = 0; i < 400; ++i) {
            RequestRecord r = makeRecord(
                kMidnight + qint64(random.bounded(5 * 24)) * kHour + random.bounded(kHour),
                chains.at(random.bounded(chains.size())), providers.at(random.bounded(providers.size())),
                statuses.at(random.bounded(statuses.size())), random.bounded(2000), random.bounded(500),
                1 + random.bounded(3), random.bounded(5000));
            r.model = r.provider + QStringLiteral("-m%1").arg(random.bounded(2));
            store->record(r);
        }
        store->flush();

        DirectDb db(target());
        const auto compareUsage = [&](const QList<UsageTotals> &usage, const QString &column) {
            const auto rows =
                db.rows(QStringLiteral("SELECT %1, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), "
                                       "SUM(total_tokens), MAX(started_at_ms), "
                                       "SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) "
                                       "FROM requests GROUP BY %1 ORDER BY MAX(started_at_ms) DESC")
                            .arg(column));
            QCOMPARE(usage.size(), rows.size());
            for (int i = 0; i < rows.size(); ++i) {
                QCOMPARE(usage.at(i).key, rows.at(i).at(0).toString());
                QCOMPARE(usage.at(i).requests, rows.at(i).at(1).toLongLong());
                QCOMPARE(usage.at(i).promptTokens, rows.at(i).at(2).toLongLong());
                QCOMPARE(usage.at(i).completionTokens, rows.at(i).at(3).toLongLong());
                QCOMPARE(usage.at(i).totalTokens, rows.at(i).at(4).toLongLong());
                QCOMPARE(usage.at(i).lastRequestMs, rows.at(i).at(5).toLongLong());
                QCOMPARE(usage.at(i).failures, rows.at(i).at(6).toLongLong());
            }
        };
        compareUsage(store->providerUsage(), QStringLiteral("provider"));
        if (QTest::currentTestFailed())
            return;
        compareUsage(store->chainUsage(), QStringLiteral("chain"));
        if (QTest::currentTestFailed())
            return;

        // Per day and model too.
        const QString day =
            m_pg ? QStringLiteral(
                       "to_char(to_timestamp(started_at_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
                 : QStringLiteral("strftime('%Y-%m-%d', started_at_ms / 1000, 'unixepoch')");
        const auto fromRows =
            db.texts(QStringLiteral("SELECT %1, provider, model, COUNT(*), "
                                    "SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), "
                                    "SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), SUM(total_tokens), "
                                    "SUM(latency_ms) FROM requests GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
                         .arg(day));
        const auto rollups =
            db.texts(QStringLiteral("SELECT day, provider, model, requests, failures, waterfalls, "
                                    "total_tokens, latency_ms_sum FROM usage_daily_provider "
                                    "ORDER BY 1, 2, 3"));
        QCOMPARE(rollups, fromRows);
        QCOMPARE(rollups.size(), 5 * 3 * 2);

        const StatsSummary s = store->summary();
        const auto sums =
            db.rows(QStringLiteral("SELECT COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), "
                                   "ROUND(AVG(latency_ms)), SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END), "
                                   "SUM(total_tokens), "
                                   "SUM(CASE WHEN started_at_ms >= %1 THEN 1 ELSE 0 END), "
                                   "SUM(CASE WHEN started_at_ms >= %1 THEN total_tokens ELSE 0 END) "
                                   "FROM requests")
                        .arg(kMidnight + 4 * kDay))
                .first();
        QCOMPARE(s.totalRequests, 400);
        QCOMPARE(s.waterfallRequests, sums.at(1).toLongLong());
        QCOMPARE(s.avgLatencyMs.value_or(-1), qint64(sums.at(2).toDouble()));
        QCOMPARE(s.successfulRequests, sums.at(3).toLongLong());
        QCOMPARE(s.totalTokens, sums.at(4).toLongLong());
        QCOMPARE(s.requestsToday, 0); // the clock is on day 6, past the data
        clock.set(kMidnight + 4 * kDay + 1);
        const StatsSummary onDay5 = store->summary();
        QCOMPARE(onDay5.requestsToday, sums.at(5).toLongLong());
        QCOMPARE(onDay5.tokensToday, sums.at(6).toLongLong());
        QVERIFY(onDay5.requestsToday > 0);
    }

    void requestFilters_data()
    {
        QTest::addColumn<RequestQuery>("query");
        QTest::addColumn<QList<qint64>>("expected");
        const auto q = [](auto change) {
            RequestQuery query;
            change(query);
            return query;
        };
        QTest::newRow("all, newest first") << RequestQuery() << idRange(8, 1);
        QTest::newRow("chain") << q([](RequestQuery &r) { r.chain = QStringLiteral("fast"); })
                               << QList<qint64>{7, 4, 3};
        QTest::newRow("provider") << q([](RequestQuery &r) { r.provider = QStringLiteral("groq"); })
                                  << QList<qint64>{8, 5, 3, 1};
        QTest::newRow("status") << q([](RequestQuery &r) { r.status = 429; }) << QList<qint64>{7, 2};
        QTest::newRow("2xx") << q([](RequestQuery &r) { r.statusClass = 2; }) << QList<qint64>{8, 4, 1};
        QTest::newRow("4xx") << q([](RequestQuery &r) { r.statusClass = 4; }) << QList<qint64>{7, 6, 2};
        QTest::newRow("5xx") << q([](RequestQuery &r) { r.statusClass = 5; }) << QList<qint64>{5, 3};
        QTest::newRow("since") << q([](RequestQuery &r) { r.sinceMs = kMidnight + 5 * kHour; })
                               << QList<qint64>{8, 7, 6};
        QTest::newRow("until (exclusive)")
            << q([](RequestQuery &r) { r.untilMs = kMidnight + 2 * kHour; }) << QList<qint64>{2, 1};
        QTest::newRow("window") << q([](RequestQuery &r) {
            r.sinceMs = kMidnight + 2 * kHour;
            r.untilMs = kMidnight + 5 * kHour;
        }) << QList<qint64>{5, 4, 3};
        QTest::newRow("combined") << q([](RequestQuery &r) {
            r.chain = QStringLiteral("default");
            r.provider = QStringLiteral("groq");
            r.statusClass = 5;
        }) << QList<qint64>{5};
        QTest::newRow("filter + beforeId") << q([](RequestQuery &r) {
            r.provider = QStringLiteral("groq");
            r.beforeId = 5;
        }) << QList<qint64>{3, 1};
        QTest::newRow("filter + offset + limit") << q([](RequestQuery &r) {
            r.provider = QStringLiteral("groq");
            r.offset = 1;
            r.limit = 2;
        }) << QList<qint64>{5, 3};
        QTest::newRow("nothing matches")
            << q([](RequestQuery &r) { r.chain = QStringLiteral("nope"); }) << QList<qint64>();
    }
    void requestFilters()
    {
        QFETCH(RequestQuery, query);
        QFETCH(QList<qint64>, expected);
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        struct Row
        {
            const char *chain;
            const char *provider;
            int status;
        };
        const Row rows[] = {{"default", "groq", 200},    {"default", "openrouter", 429},
                            {"fast", "groq", 502},       {"fast", "cerebras", 200},
                            {"default", "groq", 503},    {"default", "cerebras", 404},
                            {"fast", "openrouter", 429}, {"big", "groq", 201}};
        qint64 at = kMidnight;
        for (const Row &row : rows) {
            store->record(makeRecord(at, QLatin1String(row.chain), QLatin1String(row.provider), row.status));
            at += kHour;
        }
        store->flush();
        QCOMPARE(ids(store->requests(query)), expected);
    }

    void requestPaging()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        for (int i = 0; i < 600; ++i)
            store->record(makeRecord(kMidnight + i, QStringLiteral("c"), QStringLiteral("p")));
        store->flush();

        RequestQuery q;
        QCOMPARE(store->requests(q).size(), 50); // default
        q.limit = 1000;
        QCOMPARE(store->requests(q).size(), 500); // clamped
        q.limit = 0;
        QCOMPARE(ids(store->requests(q)), (QList<qint64>{600}));
        q.limit = -3;
        QCOMPARE(store->requests(q).size(), 1);

        q.limit = 10;
        QCOMPARE(ids(store->requests(q)), idRange(600, 591));
        q.offset = 10;
        QCOMPARE(ids(store->requests(q)), idRange(590, 581));
        q.offset = 595;
        QCOMPARE(ids(store->requests(q)), idRange(5, 1));
        q.offset = 600;
        QVERIFY(store->requests(q).isEmpty());

        // beforeId stays put while new rows arrive; offset would shift.
        q.offset = 0;
        q.beforeId = 591;
        store->record(makeRecord(kMidnight + 601, QStringLiteral("c"), QStringLiteral("p")));
        store->flush();
        QCOMPARE(ids(store->requests(q)), idRange(590, 581));
        q.beforeId = 3;
        QCOMPARE(ids(store->requests(q)), (QList<qint64>{2, 1}));
    }

    void requestWithAttemptsInOrder()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        RequestRecord r = makeRecord(kMidnight, QStringLiteral("default"), QStringLiteral("gemini"));
        r.attempts = {
            attempt(QStringLiteral("groq"), AttemptRecord::Outcome::Skipped, 0, 0, QStringLiteral("skipped")),
            attempt(QStringLiteral("openrouter"), AttemptRecord::Outcome::RateLimited, 429, 85,
                    QStringLiteral("429 rate_limit: slow down")),
            attempt(QStringLiteral("cerebras"), AttemptRecord::Outcome::NetworkError, 0, 3000,
                    QStringLiteral("connection refused")),
            attempt(QStringLiteral("mistral"), AttemptRecord::Outcome::StreamError, 200, 400,
                    QStringLiteral("cut")),
            attempt(QStringLiteral("gemini"), AttemptRecord::Outcome::Success, 200, 150, QString()),
        };
        store->record(r);
        store->flush();

        const auto listed = store->requests({});
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed.first().attemptCount, 5);
        QVERIFY(listed.first().record.attempts.isEmpty()); // only request(id) loads them

        const auto one = store->request(listed.first().id);
        QVERIFY(one);
        QCOMPARE(one->record.attempts.size(), r.attempts.size());
        for (int i = 0; i < r.attempts.size(); ++i) {
            const AttemptRecord &got = one->record.attempts.at(i);
            const AttemptRecord &want = r.attempts.at(i);
            QCOMPARE(got.provider, want.provider);
            QCOMPARE(got.model, want.model);
            QCOMPARE(got.outcome, want.outcome);
            QCOMPARE(got.status, want.status);
            QCOMPARE(got.latencyMs, want.latencyMs);
            QCOMPARE(got.reason, want.reason);
        }
        QVERIFY(!store->request(2));
        QVERIFY(!store->request(-1));
    }

    void summaryOnEmptyAndFilledLogs()
    {
        ManualClock clock(kMidnight + 23 * kHour);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        StatsSummary empty = store->summary();
        QCOMPARE(empty.totalRequests, 0);
        QCOMPARE(empty.waterfallRequests, 0);
        QVERIFY(!empty.avgLatencyMs);
        QCOMPARE(empty.successfulRequests, 0);
        QCOMPARE(empty.totalTokens, 0);
        QCOMPARE(empty.requestsToday, 0);
        QCOMPARE(empty.tokensToday, 0);
        QVERIFY(store->providerUsage().isEmpty());
        QVERIFY(store->chainUsage().isEmpty());

        store->record(
            makeRecord(kMidnight - 12 * kHour, QStringLiteral("c"), QStringLiteral("p"), 200, 4, 6, 1, 100));
        store->record(
            makeRecord(kMidnight + kHour, QStringLiteral("c"), QStringLiteral("p"), 429, 0, 0, 2, 201));
        store->record(makeRecord(kMidnight + 22 * kHour, QStringLiteral("c"), QStringLiteral("p"), 200, 20,
                                 30, 3, 301));
        store->flush();
        const StatsSummary s = store->summary();
        QCOMPARE(s.totalRequests, 3);
        QCOMPARE(s.waterfallRequests, 2);
        QCOMPARE(s.avgLatencyMs.value_or(-1), 201); // 602 / 3 = 200.67
        QCOMPARE(s.successfulRequests, 2);
        QCOMPARE(s.totalTokens, 60);
        QCOMPARE(s.requestsToday, 2);
        QCOMPARE(s.tokensToday, 50);

        clock.advance(2 * kHour); // past midnight UTC
        QCOMPARE(store->summary().requestsToday, 0);
        QCOMPARE(store->summary().tokensToday, 0);
        QCOMPARE(store->summary().totalRequests, 3);
    }

    void usageOrderAndLookup()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->record(makeRecord(kMidnight + 1, QStringLiteral("x"), QStringLiteral("a")));
        store->record(makeRecord(kMidnight + 3, QStringLiteral("y"), QStringLiteral("b"), 500));
        store->record(makeRecord(kMidnight + 2, QStringLiteral("z"), QStringLiteral("c")));
        store->record(makeRecord(kMidnight - kDay, QStringLiteral("y"), QStringLiteral("b")));
        store->flush();

        QStringList order;
        for (const auto &u : store->providerUsage())
            order << u.key;
        QCOMPARE(order, (QStringList{QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("a")}));
        order.clear();
        for (const auto &u : store->chainUsage())
            order << u.key;
        QCOMPARE(order, (QStringList{QStringLiteral("y"), QStringLiteral("z"), QStringLiteral("x")}));

        const auto b = store->providerUsage(QStringLiteral("b"));
        QVERIFY(b);
        QCOMPARE(b->key, QStringLiteral("b"));
        QCOMPARE(b->requests, 2); // over both days
        QCOMPARE(b->failures, 1);
        QCOMPARE(b->totalTokens, 60);
        QCOMPARE(b->lastRequestMs, kMidnight + 3);
        QVERIFY(!store->providerUsage(QStringLiteral("nope")));
        QCOMPARE(store->chainUsage(QStringLiteral("y"))->requests, 2);
        QVERIFY(!store->chainUsage(QStringLiteral("nope")));
    }

    void timeseriesBuckets()
    {
        ManualClock clock(kMidnight);
        auto store = openStore(options(), clock);
        QVERIFY(store);
        store->record(
            makeRecord(kMidnight + 10 * 60'000, QStringLiteral("c"), QStringLiteral("groq"), 200, 1, 2));
        store->record(
            makeRecord(kMidnight + 20 * 60'000, QStringLiteral("c"), QStringLiteral("groq"), 200, 3, 4));
        store->record(makeRecord(kMidnight + 70 * 60'000, QStringLiteral("c"), QStringLiteral("openrouter"),
                                 200, 5, 6));
        store->record(
            makeRecord(kMidnight + kDay + 5, QStringLiteral("c"), QStringLiteral("groq"), 200, 7, 8));
        store->flush();

        using P = std::tuple<qint64, QString, qint64, qint64, qint64, qint64>;
        const auto points = [](const QList<TimeseriesPoint> &list) {
            QList<P> out;
            for (const auto &p : list)
                out << P{p.bucketStartMs, p.provider,         p.requests,
                         p.promptTokens,  p.completionTokens, p.totalTokens};
            return out;
        };
        const QString groq = QStringLiteral("groq"), openrouter = QStringLiteral("openrouter");
        const QList<P> hourly = {P{kMidnight, groq, 2, 4, 6, 10},
                                 P{kMidnight + kHour, openrouter, 1, 5, 6, 11},
                                 P{kMidnight + kDay, groq, 1, 7, 8, 15}};
        QCOMPARE(points(store->timeseries(true, 0)), hourly);
        QCOMPARE(points(store->timeseries(true, kMidnight + 30 * 60'000)), hourly); // the whole first bucket
        QCOMPARE(points(store->timeseries(true, kMidnight + 61 * 60'000)), hourly.mid(1));

        const QList<P> daily = {P{kMidnight, groq, 2, 4, 6, 10}, P{kMidnight, openrouter, 1, 5, 6, 11},
                                P{kMidnight + kDay, groq, 1, 7, 8, 15}};
        QCOMPARE(points(store->timeseries(false, 0)), daily);
        QCOMPARE(points(store->timeseries(false, kMidnight + 23 * kHour)), daily);
        QCOMPARE(points(store->timeseries(false, kMidnight + kDay + kHour)), daily.mid(2));

        // Daily buckets come from the rollups and outlive retention; hourly ones come from the rows.
        clock.set(kMidnight + 40 * kDay);
        store->runRetention();
        QVERIFY(store->timeseries(true, 0).isEmpty());
        QCOMPARE(points(store->timeseries(false, 0)), daily);
    }
};

QTEST_GUILESS_MAIN(TestRequestStore)
#include "tst_requeststore.moc"
