#pragma once

#include "chatrequest.h"
#include "clock.h"
#include "config.h"
#include "ratelimittracker.h"
#include "requestrecord.h"
#include "statssource.h"
#include "upstreampool.h"

#include <QObject>

#include <memory>

class ChatSink;

// The one core API every face uses (HTTP routes, tray, web UI, tests): holds the running config, the limiter and
// the upstream pool, and serves chat requests. Lives on the engine thread.
class ProxyService : public QObject
{
    Q_OBJECT

public:
    struct ModelEntry
    {
        QString id;
        QString ownedBy;
        bool isChain = false;
    };

    ProxyService(const Config &config, const Clock &clock, QObject *parent = nullptr);
    ~ProxyService() override;

    std::shared_ptr<const Config> config() const { return m_config; }
    void setConfig(const Config &config);
    RateLimitTracker &tracker() { return m_tracker; }
    const Clock &clock() const { return m_clock; }

    // Serves one validated request into `sink` (ownership passes to the request, which ends by itself).
    void startChat(ChatRequest request, ChatSink *sink);
    int activeRequests() const { return m_active; }

    // The request log's read side (chain_storage), if one is attached; not owned.
    void setStatsSource(StatsSource *stats) { m_stats = stats; }
    StatsSource *stats() const { return m_stats; }

    // What /v1/models lists: chain names first, then every entry's model once.
    QList<ModelEntry> models() const;
    qint64 uptimeMs() const;

signals:
    void requestFinished(const RequestRecord &record);
    void becameIdle();

private:
    std::shared_ptr<const Config> m_config;
    const Clock &m_clock;
    RateLimitTracker m_tracker;
    UpstreamPool m_pool;
    int m_active = 0;
    StatsSource *m_stats = nullptr;
    qint64 m_startedAtMs;
};
