#include "proxyservice.h"

#include "chatexecution.h"
#include "chatsink.h"

#include <QLoggingCategory>
#include <QSet>

Q_DECLARE_LOGGING_CATEGORY(lcRouter)

namespace {
RateLimitTracker::Policy policyFor(const Settings &s, RateLimitTracker::Policy policy)
{
    policy.midStreamFailureThreshold = s.midStreamFailureThreshold;
    policy.midStreamCooldownMs = s.midStreamCooldownMs;
    policy.midStreamCooldownMaxMs = s.midStreamCooldownMaxMs;
    return policy;
}
} // namespace

ProxyService::ProxyService(const Config &config, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_config(std::make_shared<const Config>(config))
    , m_clock(clock)
    , m_tracker(clock)
    , m_startedAtMs(clock.nowMs())
{
    qRegisterMetaType<RequestRecord>();
    m_tracker.setPolicy(policyFor(config.settings, m_tracker.policy()));
}

ProxyService::~ProxyService() = default;

void ProxyService::setConfig(const Config &config)
{
    m_config = std::make_shared<const Config>(config);
    m_tracker.setPolicy(policyFor(config.settings, m_tracker.policy()));
}

void ProxyService::startChat(ChatRequest request, ChatSink *sink)
{
    const ChainConfig *chain = m_config->chainForModel(request.model);
    const QString chainName = chain ? chain->name : m_config->settings.defaultChain;
    auto *execution = new ChatExecution(m_config, chainName, std::move(request), sink, m_tracker, m_pool, this);
    ++m_active;
    connect(execution, &ChatExecution::finished, this, [this](const RequestRecord &record) {
        --m_active;
        emit requestFinished(record);
        if (m_active == 0)
            emit becameIdle();
    });
    execution->start();
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
