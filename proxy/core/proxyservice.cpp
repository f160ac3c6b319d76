#include "proxyservice.h"

#include "chaintester.h"
#include "providermodels.h"

#include "configloader.h"
#include "waterfall.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QLoggingCategory>
#include <QSet>
#include <QTimeZone>

Q_DECLARE_LOGGING_CATEGORY(lcRouter)
Q_LOGGING_CATEGORY(lcConfigOps, "chain.config")

namespace {

constexpr int kSweepIntervalMs = 1000;
constexpr qint64 kExhaustedEventIntervalMs = 60 * 1000; // one chain_exhausted event per chain and minute
constexpr int kMaxReasonChars = 300;

RateLimitTracker::Policy policyFor(const Settings &s, RateLimitTracker::Policy policy)
{
    policy.midStreamFailureThreshold = s.midStreamFailureThreshold;
    policy.midStreamCooldownMs = s.midStreamCooldownMs;
    policy.midStreamCooldownMaxMs = s.midStreamCooldownMaxMs;
    policy.cooldownDefaultMs = s.cooldownDefaultMs;
    return policy;
}

} // namespace

ProxyService::ProxyService(const Config &config, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_config(std::make_shared<const Config>(config))
    , m_fileConfig(m_config)
    , m_startSettings(config.settings)
    , m_clock(clock)
    , m_tracker(clock)
    , m_queue(clock)
    , m_events(clock, EventLog::kDefaultCapacity, this)
    , m_sweepTimer(this)
    , m_startedAtMs(clock.nowMs())
{
    qRegisterMetaType<RequestRecord>();
    applyToTracker(config);

    if (!config.sourcePath.isEmpty()) {
        QFile file(config.sourcePath);
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray content = file.readAll();
            m_fileHash = QCryptographicHash::hash(content, QCryptographicHash::Sha256);
            // The file's own values of the settings that PORT/HOST/LOG_LEVEL/--port/--host may have
            // overridden.
            const ConfigLoadResult loaded = ConfigLoader::loadString(content, config.sourcePath);
            if (loaded.ok()) {
                Config fileView = config;
                fileView.settings.port = loaded.config->settings.port;
                fileView.settings.host = loaded.config->settings.host;
                fileView.settings.logLevel = loaded.config->settings.logLevel;
                fileView.settings.dbPath = loaded.config->settings.dbPath;
                fileView.settings.storage = loaded.config->settings.storage;
                fileView.settings.replicaName = loaded.config->settings.replicaName;
                fileView.settings.maxRequestBytes = loaded.config->settings.maxRequestBytes;
                m_fileConfig = std::make_shared<const Config>(fileView);
            }
        }
    }

    connect(&m_tracker, &RateLimitTracker::cooldownStarted, this, &ProxyService::onCooldownStarted);
    connect(&m_tracker, &RateLimitTracker::cooldownEnded, this, &ProxyService::onCooldownEnded);
    connect(&m_tracker, &RateLimitTracker::entryFreed, this, &ProxyService::notifyQueue);
    connect(&m_tracker, &RateLimitTracker::cooldownEnded, this, &ProxyService::notifyQueue);
    m_sweepTimer.setInterval(kSweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, &m_tracker, &RateLimitTracker::sweep);
    m_sweepTimer.start();
}

ProxyService::~ProxyService()
{
    // Running requests and jobs use the tracker, the queue and the upstream pool, which are members and would
    // be gone before QObject deletes its children: they go first.
    const QObjectList kids = children();
    for (QObject *child : kids) {
        if (child != &m_events && child != &m_sweepTimer)
            delete child;
    }
}

ChainTester *ProxyService::createChainTest(const QString &chainName, const QString &prompt)
{
    const ChainConfig *chain = m_config->chain(chainName);
    return chain ? new ChainTester(m_config, *chain, prompt, m_pool, this) : nullptr;
}

ProviderModels *ProxyService::createModelFetch(const QString &providerId)
{
    const ProviderConfig *provider = m_config->provider(providerId);
    if (!provider)
        return nullptr;
    return new ProviderModels(*provider, provider->timeoutMs.value_or(m_config->settings.requestTimeoutMs),
                              m_pool, this);
}

void ProxyService::setConfig(const Config &config)
{
    m_config = std::make_shared<const Config>(config);
    m_fileConfig = m_config;
    m_startSettings = config.settings;
    applyToTracker(config);
}

void ProxyService::applyFileConfig(const Config &fileConfig)
{
    m_fileConfig = std::make_shared<const Config>(fileConfig);
    m_config = std::make_shared<const Config>(withRestartSettings(fileConfig));
    applyToTracker(*m_config);
}

void ProxyService::applyToTracker(const Config &config)
{
    // Settings, provider types and manual limits take effect on the next request; counters are kept.
    m_tracker.setPolicy(policyFor(config.settings, m_tracker.policy()));
    m_tracker.applyConfig(config);
    RequestQueue::Settings queueSettings;
    queueSettings.maxWaitMs = config.settings.queueMaxWaitMs;
    queueSettings.maxSize = config.settings.queueMaxSize;
    m_queue.setSettings(queueSettings);
    // A changed config may make a waiting request servable (a new entry, a raised limit).
    for (const auto &stats : m_queue.stats())
        m_queue.notifyAvailable(stats.chainName);
}

void ProxyService::notifyQueue(const QString &provider, const QString &model)
{
    const bool anyModel = model.isEmpty() || model.startsWith(QLatin1Char('*'));
    for (const auto &chain : m_config->chains) {
        if (m_queue.depth(chain.name) == 0)
            continue;
        for (const auto &entry : chain.entries) {
            if (entry.provider == provider && (anyModel || entry.model == model)) {
                m_queue.notifyAvailable(chain.name);
                break;
            }
        }
    }
}

void ProxyService::startRequest(EngineRequest request, EngineSink *sink)
{
    const ChainConfig *chain = m_config->chainForModel(request.model);
    const QString chainName = chain ? chain->name : m_config->settings.defaultChain;
    auto *waterfall =
        new Waterfall(m_config, chainName, std::move(request), sink, m_tracker, m_pool, &m_queue, this);
    if (m_paused) {
        // Recorded like any answer, but it never ran: it does not count as active.
        connect(waterfall, &Waterfall::finished, this, &ProxyService::requestFinished);
        waterfall->refuse(ApiError::make(503, ApiError::Kind::Overloaded, QStringLiteral("proxy_paused"),
                                         tr("The proxy is paused; resume it from the 429chain tray menu.")));
        return;
    }
    ++m_active;
    connect(waterfall, &Waterfall::chainExhausted, this, &ProxyService::onChainExhausted);
    connect(waterfall, &Waterfall::finished, this, &ProxyService::onRequestFinished);
    waterfall->start();
}

void ProxyService::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    EventLog::Event event;
    event.kind = paused ? QStringLiteral("paused") : QStringLiteral("resumed");
    event.level = QStringLiteral("info");
    event.message = paused ? tr("Proxy paused: new chat requests are refused with 503 proxy_paused")
                           : tr("Proxy resumed");
    m_events.append(event);
    emit pausedChanged(paused);
}

void ProxyService::abortAll(const QString &reason)
{
    m_queue.rejectAll(); // waiting requests end with 503 queue_shutdown
    const QList<Waterfall *> running = findChildren<Waterfall *>(Qt::FindDirectChildrenOnly);
    for (Waterfall *waterfall : running) {
        if (!waterfall->isDone())
            waterfall->abort(QStringLiteral("shutting_down"), reason);
    }
}

void ProxyService::onRequestFinished(const RequestRecord &record)
{
    --m_active;
    if (record.status < 400 && m_exhaustedChains.remove(record.chain)) {
        m_exhaustedEventMs.remove(record.chain); // the next dry spell is news again
        EventLog::Event event;
        event.kind = QStringLiteral("recovered");
        event.level = QStringLiteral("info");
        event.chain = record.chain;
        event.message =
            tr("Chain \"%1\" is serving again (%2/%3)").arg(record.chain, record.provider, record.model);
        m_events.append(event);
        emit chainRecovered(record.chain);
    }
    emit requestFinished(record);
}

void ProxyService::onChainExhausted(const QString &chain, qint64 retryAfterSeconds)
{
    m_exhaustedChains.insert(chain);
    const qint64 now = m_clock.nowMs();
    const auto last = m_exhaustedEventMs.constFind(chain);
    if (last == m_exhaustedEventMs.cend() || now - *last >= kExhaustedEventIntervalMs) {
        m_exhaustedEventMs.insert(chain, now);
        EventLog::Event event;
        event.kind = QStringLiteral("chain_exhausted");
        event.level = QStringLiteral("error");
        event.chain = chain;
        if (retryAfterSeconds > 0) {
            event.untilMs = now + retryAfterSeconds * 1000;
            event.message =
                tr("Chain \"%1\" ran dry: no entry could serve the request; the first one frees up at %2")
                    .arg(chain, formatTime(event.untilMs));
        } else {
            event.message = tr("Chain \"%1\" ran dry: no entry could serve the request").arg(chain);
        }
        m_events.append(event);
    }
    emit chainExhausted(chain, retryAfterSeconds);
}

void ProxyService::onCooldownStarted(const QString &provider, const QString &model, qint64 untilMs,
                                     const QString &reason)
{
    EventLog::Event event;
    event.kind = QStringLiteral("cooldown");
    event.level = QStringLiteral("warn");
    event.provider = provider;
    event.model = model;
    event.untilMs = untilMs;
    const QString shortReason =
        reason.size() > kMaxReasonChars ? reason.left(kMaxReasonChars) + QChar(0x2026) : reason;
    event.message =
        tr("%1/%2 cooling down until %3: %4").arg(provider, model, formatTime(untilMs), shortReason);
    m_events.append(event);
}

void ProxyService::onCooldownEnded(const QString &provider, const QString &model)
{
    EventLog::Event event;
    event.kind = QStringLiteral("recovered");
    event.level = QStringLiteral("info");
    event.provider = provider;
    event.model = model;
    event.message = tr("%1/%2 is available again").arg(provider, model);
    m_events.append(event);
}

QString ProxyService::formatTime(qint64 ms) const
{
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc());
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(m_clock.nowMs(), QTimeZone::utc());
    const QString format =
        at.date() == now.date() ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm:ss");
    return at.toString(format) + QLatin1String(" UTC");
}

QList<ProxyService::ModelEntry> ProxyService::models() const
{
    QList<ModelEntry> out;
    for (const auto &chain : m_config->chains)
        out.append({chain.name, QStringLiteral("429chain"), true});
    QSet<QString> seen;
    for (const auto &chain : m_config->chains) {
        for (const auto &entry : chain.entries) {
            if (seen.contains(entry.model))
                continue;
            seen.insert(entry.model);
            out.append({entry.model, entry.provider, false});
        }
    }
    return out;
}

qint64 ProxyService::uptimeMs() const
{
    return m_clock.nowMs() - m_startedAtMs;
}
