#include "demoenvironment.h"

#include "simulatedprovider.h"

#include <QDir>

namespace {

struct DemoSpec
{
    const char *id;
    const char *name;
    const char *type;
    const char *model;
    SimulatedProvider::Dialect dialect;
    int requestsPerWindow;
    int chunkDelayMs;
    int firstTokenDelayMs;
};

constexpr qint64 kWindowMs = 60 * 1000;

// Order matters: the default chain tries them in this order.
constexpr DemoSpec kSpecs[] = {
    {"groq-demo", "Groq (simulated)", "groq", "llama-3.1-8b-instant", SimulatedProvider::Dialect::Groq, 4, 35,
     150},
    {"openrouter-demo", "OpenRouter (simulated)", "openrouter", "meta-llama/llama-3.3-70b-instruct:free",
     SimulatedProvider::Dialect::OpenRouter, 6, 50, 400},
    {"cerebras-demo", "Cerebras (simulated)", "cerebras", "llama3.1-8b", SimulatedProvider::Dialect::Cerebras,
     30, 20, 100},
};

QStringList repliesFor(const QString &id, int limit)
{
    const QString perMinute = QString::number(limit);
    return {
        QStringLiteral(
            "Hello! This answer came from %1, a simulated provider running inside 429chain on your own "
            "machine. No account, no API key and no internet were needed. It accepts only %2 requests "
            "per minute, just like a stingy free tier, so send a few more and watch what happens.")
            .arg(id, perMinute),
        QStringLiteral(
            "You are talking to %1, one of three pretend providers of the 429chain demo. When a "
            "provider answers HTTP 429 (too many requests), 429chain does not give up: it waterfalls "
            "to the next provider in the chain, and your client never sees the error.")
            .arg(id),
        QStringLiteral(
            "Greetings from %1! A waterfall is a chain of providers tried in order: the first one with "
            "capacity left answers. 429chain remembers which providers are cooling down and skips them "
            "until their limit resets. Open the dashboard to see every attempt.")
            .arg(id),
        QStringLiteral(
            "This reply was streamed word by word by %1, a simulated free tier. Real providers such as "
            "Groq, OpenRouter and Cerebras behave much the same way, with their own rate-limit headers "
            "and error bodies, which 429chain reads to decide when to move on.")
            .arg(id),
    };
}

} // namespace

DemoEnvironment::DemoEnvironment(QObject *parent) : QObject(parent)
{
    for (const DemoSpec &spec : kSpecs) {
        Entry e;
        e.id = QString::fromLatin1(spec.id);
        e.name = QString::fromLatin1(spec.name);
        e.type = QString::fromLatin1(spec.type);
        e.model = QString::fromLatin1(spec.model);
        e.upstreamKey = QStringLiteral("sim-key-") + e.id;
        e.provider = new SimulatedProvider(spec.dialect, this);
        e.provider->setObjectName(e.id);
        e.provider->setRequestLimit(spec.requestsPerWindow, kWindowMs);
        e.provider->setChunkDelayMs(spec.chunkDelayMs);
        e.provider->setFirstTokenDelayMs(spec.firstTokenDelayMs);
        e.provider->setRequiredApiKey(e.upstreamKey);
        e.provider->setReplies(repliesFor(e.id, spec.requestsPerWindow));
        QStringList models{e.model};
        if (spec.dialect == SimulatedProvider::Dialect::Groq)
            models << QStringLiteral("llama-3.3-70b-versatile");
        e.provider->setModels(models);
        m_entries << e;
    }
}

DemoEnvironment::~DemoEnvironment() = default;

bool DemoEnvironment::start(QString *error)
{
    if (m_started)
        return true;
    for (const Entry &e : std::as_const(m_entries)) {
        if (!e.provider->listen(0)) {
            if (error)
                *error = tr("the simulated provider %1 could not listen on a loopback port").arg(e.id);
            return false;
        }
    }
    m_started = true;
    return true;
}

QString DemoEnvironment::apiKey()
{
    return QStringLiteral("sk-429chain-demo");
}

SimulatedProvider *DemoEnvironment::provider(const QString &id) const
{
    for (const Entry &e : m_entries) {
        if (e.id == id)
            return e.provider;
    }
    return nullptr;
}

QList<SimulatedProvider *> DemoEnvironment::providers() const
{
    QList<SimulatedProvider *> list;
    for (const Entry &e : m_entries)
        list << e.provider;
    return list;
}

Config DemoEnvironment::config(int port, const QString &host) const
{
    Config config;
    config.settings.port = port;
    config.settings.host = host;
    config.settings.apiKeys = {apiKey()};
    config.settings.defaultChain = QStringLiteral("default");
    // The demo must not leave files where it was started.
    // A folder of this run's own: nothing shared with other users or other demo runs.
    config.settings.dbPath = m_dataDir.filePath(QStringLiteral("observability.db"));

    for (const Entry &e : m_entries) {
        ProviderConfig p;
        p.id = e.id;
        p.name = e.name;
        p.type = e.type;
        p.apiKey = e.upstreamKey;
        p.baseUrl = e.provider->baseUrl();
        config.providers << p;
    }

    auto entry = [this](const QString &id) {
        for (const Entry &e : m_entries) {
            if (e.id == id)
                return ChainEntry{e.id, e.model, 0, std::nullopt};
        }
        return ChainEntry{};
    };
    ChainConfig defaultChain;
    defaultChain.name = QStringLiteral("default");
    defaultChain.entries = {entry(QStringLiteral("groq-demo")), entry(QStringLiteral("openrouter-demo")),
                            entry(QStringLiteral("cerebras-demo"))};
    ChainConfig fast;
    fast.name = QStringLiteral("fast");
    fast.entries = {entry(QStringLiteral("cerebras-demo")), entry(QStringLiteral("groq-demo"))};
    config.chains = {defaultChain, fast};
    return config;
}
