#include "requeststore.h"

#include "notifychannel.h"
#include "requestwriter.h"
#include "statsqueries.h"
#include "storagecommon.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>

namespace {

std::atomic<quint64> g_nextStoreId{1};

StorageCommon::Target targetOf(const RequestStore::Options &options, QString *error)
{
    StorageCommon::Target target;
    target.path = options.path;
    if (const auto url = StorageUrl::parse(options.storage, error))
        target.url = *url;
    return target;
}

RequestWriter::Settings writerSettings(const RequestStore::Options &options, quint64 id)
{
    RequestWriter::Settings s;
    s.target = targetOf(options, nullptr);
    s.replica = options.replica;
    s.connectionName = QStringLiteral("chain.storage.%1.writer").arg(id);
    s.retentionDays = options.retentionDays;
    s.maxRequestRows = options.maxRequestRows;
    s.flushIntervalMs = qMax(0, options.flushIntervalMs);
    s.maxBatch = qMax(1, options.maxBatch);
    s.maxPending = qMax(options.maxBufferedRows, 1);
    return s;
}

} // namespace

RequestStore::RequestStore(const Options &options, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_clock(clock)
    , m_id(g_nextStoreId++)
    , m_target(targetOf(options, &m_targetError))
    , m_writer(std::make_unique<RequestWriter>(writerSettings(options, m_id), clock))
{
    m_thread.setObjectName(QStringLiteral("chain.storage.writer"));
    m_writer->moveToThread(&m_thread);
    m_readThread.setObjectName(QStringLiteral("chain.storage.reader"));
    if (m_target.isPostgreSql()) {
        RequestWriter *writer = m_writer.get();
        m_channel = std::make_unique<NotifyChannel>(
            m_target, QStringLiteral("chain.storage.%1.bus").arg(m_id), [writer] {
                QMetaObject::invokeMethod(
                    writer, [writer] { writer->fetchSharedConfig(); }, Qt::QueuedConnection);
            });
        m_busThread.setObjectName(QStringLiteral("chain.storage.bus"));
        m_channel->moveToThread(&m_busThread);
    }
}

void RequestStore::runQuery(std::function<void()> query)
{
    QMutexLocker lock(&m_readStartMutex);
    if (!m_readContext) {
        m_readContext = new QObject;
        m_readContext->moveToThread(&m_readThread);
        connect(&m_readThread, &QThread::finished, m_readContext, &QObject::deleteLater);
        m_readThread.start();
    }
    QMetaObject::invokeMethod(m_readContext, std::move(query), Qt::QueuedConnection);
}

RequestStore::~RequestStore()
{
    {
        QMutexLocker lock(&m_readStartMutex);
        if (m_readContext) {
            // Every query handed over runs (and answers) before the store goes; then the reader's connection
            // closes as its thread finishes.
            QMetaObject::invokeMethod(
                m_readContext, [] {}, Qt::BlockingQueuedConnection);
            m_readThread.quit();
            m_readThread.wait();
            m_readContext = nullptr;
        }
    }
    if (m_busThread.isRunning()) {
        QMetaObject::invokeMethod(
            m_channel.get(), [this] { m_channel->stop(); }, Qt::BlockingQueuedConnection);
        m_busThread.quit();
        m_busThread.wait();
    }
    m_channel.reset();
    if (m_open.exchange(false))
        runOnWriter([this] { m_writer->close(); });
    m_thread.quit();
    m_thread.wait();
    m_writer.reset();

    QMutexLocker lock(&m_readersMutex);
    for (const Reader &reader : std::as_const(m_readers)) {
        disconnect(reader.threadFinished);
        QSqlDatabase::removeDatabase(reader.connectionName);
    }
    m_readers.clear();
}

template<typename Function> void RequestStore::runOnWriter(Function function)
{
    if (QThread::currentThread() == &m_thread)
        function();
    else
        QMetaObject::invokeMethod(m_writer.get(), function, Qt::BlockingQueuedConnection);
}

bool RequestStore::open(QString *error)
{
    if (m_open.load())
        return true;
    QString why;
    if (!m_targetError.isEmpty()) {
        why = QStringLiteral("cannot open the request log: settings.storage ") + m_targetError;
    } else if (m_target.isPostgreSql()) {
        // No folder to make: the writer connects (or keeps trying).
        m_thread.start();
        bool opened = false;
        const qint64 nowMs = m_clock.nowMs();
        runOnWriter([&] { opened = m_writer->open(nowMs, &why); });
        if (opened) {
            m_schemaVersion = m_writer->schemaVersion();
            m_open.store(true);
            m_busThread.start();
            QMetaObject::invokeMethod(
                m_channel.get(), [this] { m_channel->start(); }, Qt::QueuedConnection);
            return true;
        }
        m_thread.quit();
        m_thread.wait();
    } else if (m_options.path.isEmpty()) {
        why = QStringLiteral("cannot open the request log: no database path is set");
    } else if (!QDir().mkpath(QFileInfo(m_options.path).absolutePath())) {
        why = QStringLiteral("cannot open the request log %1: cannot create the folder %2")
                  .arg(m_options.path, QFileInfo(m_options.path).absolutePath());
    } else {
        m_thread.start();
        const qint64 nowMs = m_clock.nowMs();
        bool opened = false;
        runOnWriter([&] { opened = m_writer->open(nowMs, &why); });
        if (opened) {
            m_schemaVersion = m_writer->schemaVersion();
            m_open.store(true);
            return true;
        }
        m_thread.quit();
        m_thread.wait();
    }
    qCWarning(lcStorage).noquote() << why;
    if (error)
        *error = why;
    return false;
}

void RequestStore::setReplica(const QString &replica)
{
    m_writer->setReplica(replica);
}

void RequestStore::publishLimiterMessage(const QByteArray &message)
{
    if (m_open.load() && m_channel)
        m_channel->publishLimiterMessage(message);
}

void RequestStore::setLimiterReceiver(QObject *context, std::function<void(const QByteArray &)> receiver)
{
    if (m_channel)
        m_channel->setLimiterReceiver(context, std::move(receiver));
}

std::optional<QByteArray> RequestStore::loadSharedConfig()
{
    std::optional<QByteArray> out;
    if (m_open.load() && isShared())
        runOnWriter([this, &out] { out = m_writer->loadSharedConfig(); });
    return out;
}

bool RequestStore::seedSharedConfig(const QByteArray &yaml)
{
    bool seeded = false;
    if (m_open.load() && isShared())
        runOnWriter([this, &seeded, &yaml] { seeded = m_writer->seedSharedConfig(yaml); });
    return seeded;
}

void RequestStore::saveSharedConfig(const QByteArray &yaml)
{
    if (m_open.load() && isShared())
        m_writer->saveSharedConfig(yaml);
}

void RequestStore::setSharedConfigReceiver(QObject *context, std::function<void(const QByteArray &)> receiver)
{
    m_writer->setSharedConfigReceiver(context, std::move(receiver));
}

StorageStatus RequestStore::storageStatus() const
{
    return m_writer->status();
}

void RequestStore::record(const RequestRecord &record)
{
    if (!m_open.load()) {
        if (!m_warnedNotOpen.exchange(true))
            qCWarning(lcStorage) << "the request log is not open: requests are not recorded";
        return;
    }
    const qint64 nowMs = m_clock.nowMs();
    RequestRecord copy = record;
    if (copy.startedAtMs <= 0)
        copy.startedAtMs = nowMs;
    m_writer->enqueue(std::move(copy), nowMs);
}

void RequestStore::flush()
{
    if (m_open.load())
        runOnWriter([this] { m_writer->writePending(); });
}

void RequestStore::runRetention()
{
    if (!m_open.load())
        return;
    const qint64 nowMs = m_clock.nowMs();
    runOnWriter([this, nowMs] {
        m_writer->writePending();
        m_writer->runRetention(nowMs);
    });
}

QByteArray RequestStore::loadLimiterState()
{
    QByteArray state;
    if (m_open.load())
        runOnWriter([this, &state] { state = m_writer->loadLimiterState(); });
    return state;
}

void RequestStore::saveLimiterState(const QByteArray &state)
{
    if (m_open.load()) // a store that failed to open said so when it failed
        m_writer->setLimiterState(state, m_clock.nowMs());
}

QString RequestStore::readerConnection()
{
    if (!m_open.load())
        return QString();
    QThread *thread = QThread::currentThread();
    QMutexLocker lock(&m_readersMutex);
    const auto it = m_readers.constFind(thread);
    if (it != m_readers.cend())
        return it->connectionName;

    const QString name = QStringLiteral("chain.storage.%1.read.%2").arg(m_id).arg(quintptr(thread), 0, 16);
    QString error;
    if (!StorageCommon::openConnection(name, m_target, &error)) {
        // A database that is away says so once per outage, in the writer's log line.
        if (!m_target.isPostgreSql())
            qCWarning(lcStorage).noquote() << error;
        return QString();
    }
    // Runs in the finishing thread, the only one allowed to close its connection cleanly.
    const auto finished = connect(
        thread, &QThread::finished, this, [this, thread] { dropReader(thread); }, Qt::DirectConnection);
    m_readers.insert(thread, Reader{name, finished});
    return name;
}

void RequestStore::dropReader(QThread *thread)
{
    Reader reader;
    {
        QMutexLocker lock(&m_readersMutex);
        reader = m_readers.take(thread);
    }
    disconnect(reader.threadFinished);
    if (!reader.connectionName.isEmpty())
        StorageCommon::closeConnection(reader.connectionName);
}

template<typename T> T RequestStore::read(T fallback, const std::function<T(StatsQueries &)> &query)
{
    // A PostgreSQL connection that failed may be dead (the server restarted since): drop it and try once
    // more on a new one, so the first read after an outage already answers.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const QString name = readerConnection();
        if (name.isEmpty())
            return fallback;
        bool failed = false;
        T out = fallback;
        {
            StatsQueries queries(QSqlDatabase::database(name, false));
            out = query(queries);
            failed = queries.failed();
        }
        if (!failed || !m_target.isPostgreSql())
            return out;
        Reader reader;
        {
            QMutexLocker lock(&m_readersMutex);
            reader = m_readers.take(QThread::currentThread());
        }
        disconnect(reader.threadFinished);
        StorageCommon::closeConnection(reader.connectionName);
    }
    return fallback;
}

qint64 RequestStore::requestRowCount()
{
    return read<qint64>(0, [](StatsQueries &q) { return q.requestRowCount(); });
}

StatsSummary RequestStore::summary()
{
    const qint64 nowMs = m_clock.nowMs();
    return read<StatsSummary>({}, [nowMs](StatsQueries &q) { return q.summary(nowMs); });
}

QList<UsageTotals> RequestStore::providerUsage()
{
    return read<QList<UsageTotals>>({}, [](StatsQueries &q) { return q.usage(true); });
}

std::optional<UsageTotals> RequestStore::providerUsage(const QString &providerId)
{
    if (providerId.isNull())
        return std::nullopt;
    const QList<UsageTotals> found =
        read<QList<UsageTotals>>({}, [&providerId](StatsQueries &q) { return q.usage(true, providerId); });
    return found.isEmpty() ? std::nullopt : std::optional<UsageTotals>(found.first());
}

QList<UsageTotals> RequestStore::chainUsage()
{
    return read<QList<UsageTotals>>({}, [](StatsQueries &q) { return q.usage(false); });
}

std::optional<UsageTotals> RequestStore::chainUsage(const QString &chainName)
{
    if (chainName.isNull())
        return std::nullopt;
    const QList<UsageTotals> found =
        read<QList<UsageTotals>>({}, [&chainName](StatsQueries &q) { return q.usage(false, chainName); });
    return found.isEmpty() ? std::nullopt : std::optional<UsageTotals>(found.first());
}

QList<StoredRequest> RequestStore::requests(const RequestQuery &query)
{
    return read<QList<StoredRequest>>({}, [&query](StatsQueries &q) { return q.requests(query); });
}

std::optional<StoredRequest> RequestStore::request(qint64 id)
{
    return read<std::optional<StoredRequest>>(std::nullopt, [id](StatsQueries &q) { return q.request(id); });
}

QList<TimeseriesPoint> RequestStore::timeseries(bool hourly, qint64 sinceMs)
{
    return read<QList<TimeseriesPoint>>(
        {}, [hourly, sinceMs](StatsQueries &q) { return q.timeseries(hourly, sinceMs); });
}
