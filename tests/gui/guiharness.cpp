#include "guiharness.h"

#include "apiserver.h"
#include "clock.h"
#include "configwriter.h"
#include "proxyservice.h"
#include "requeststore.h"
#include "simulatedprovider.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonArray>
#include <QTest>

GuiHarness::GuiHarness() : GuiHarness(Options()) {}

GuiHarness::GuiHarness(const Options &options) : m_options(options)
{
    m_engineThread.setObjectName(QStringLiteral("gui-harness-engine"));
}

GuiHarness::~GuiHarness()
{
    m_bridge.reset(); // before the service it talks to
    if (m_engineThread.isRunning()) {
        runOnEngine([this] {
            if (m_store) {
                m_service->setStatsSource(nullptr);
                QObject::disconnect(m_service, nullptr, m_store, nullptr);
            }
            delete m_context; // server, service, store, providers
            m_context = nullptr;
        });
        m_engineThread.quit();
        m_engineThread.wait();
    }
    delete m_clock;
}

void GuiHarness::runOnEngine(const std::function<void()> &work)
{
    QMetaObject::invokeMethod(m_context, work, Qt::BlockingQueuedConnection);
}

bool GuiHarness::start()
{
    if (!m_dir.isValid()) {
        qWarning("GuiHarness: no temporary folder");
        return false;
    }
    m_engineThread.start();
    m_context = new QObject;
    m_context->moveToThread(&m_engineThread);
    bool ok = true;
    runOnEngine([this, &ok] {
        m_clock = new SystemClock;
        Config config;
        const struct
        {
            const char *id;
            SimulatedProvider::Dialect dialect;
            const char *type;
        } sims[] = {{"alpha", SimulatedProvider::Dialect::Groq, "groq"},
                    {"beta", SimulatedProvider::Dialect::OpenRouter, "openrouter"}};
        for (const auto &s : sims) {
            auto *sim = new SimulatedProvider(s.dialect, m_context);
            if (!sim->listen()) {
                qWarning("GuiHarness: a simulated provider cannot listen");
                ok = false;
                return;
            }
            sim->setReply(QStringLiteral("Hello from %1").arg(QLatin1String(s.id)));
            m_providers.append({QLatin1String(s.id), sim});
            ProviderConfig p;
            p.id = QLatin1String(s.id);
            p.name = QLatin1String(s.id);
            p.type = QLatin1String(s.type);
            p.apiKey = QStringLiteral("sk-upstream-") + p.id;
            p.baseUrl = sim->baseUrl();
            config.providers.append(p);
        }
        ChainConfig main;
        main.name = QStringLiteral("default");
        main.entries.append({QStringLiteral("alpha"), QStringLiteral("alpha-model"), 0, std::nullopt});
        main.entries.append({QStringLiteral("beta"), QStringLiteral("beta-model"), 0, std::nullopt});
        ChainConfig backup;
        backup.name = QStringLiteral("backup");
        backup.entries.append({QStringLiteral("beta"), QStringLiteral("beta-model"), 0, std::nullopt});
        config.chains = {main, backup};
        config.settings.defaultChain = QStringLiteral("default");
        config.settings.apiKeys = {QString::fromLatin1(kApiKey)};
        config.settings.host = QStringLiteral("127.0.0.1");
        config.settings.port = 3429; // the file's; the test server listens on port 0 (withHttp)
        config.settings.dbPath = m_dir.filePath(QStringLiteral("observability.db"));
        if (m_options.editConfig)
            m_options.editConfig(config);
        QString error;
        if (!ConfigWriter::write(config, configPath(), &error)) {
            qWarning("GuiHarness: cannot write the config: %s", qPrintable(error));
            ok = false;
            return;
        }
        config.sourcePath = configPath();
        m_service = new ProxyService(config, *m_clock, m_context);

        if (m_options.withStore) {
            RequestStore::Options storeOptions;
            storeOptions.path = config.settings.dbPath;
            storeOptions.flushIntervalMs = 10;
            auto *store = new RequestStore(storeOptions, *m_clock);
            if (!store->open(&error)) {
                qWarning("GuiHarness: cannot open the request log: %s", qPrintable(error));
                delete store;
                ok = false;
                return;
            }
            store->setParent(m_context);
            m_store = store;
            m_service->setStatsSource(m_store);
            QObject::connect(m_service, &ProxyService::requestFinished, m_store, &RequestStore::record,
                             Qt::DirectConnection);
        }
        if (m_options.withHttp) {
            m_server = new ApiServer(*m_service, m_context);
            if (!m_server->listen(QHostAddress(QHostAddress::LocalHost), 0, &error)) {
                qWarning("GuiHarness: the API server cannot listen: %s", qPrintable(error));
                ok = false;
                return;
            }
            m_port = m_server->port();
        }
    });
    if (!ok)
        return false;
    m_bridge = std::make_unique<ServiceBridge>(m_service, m_store);
    if (m_port)
        m_bridge->setListenPort(m_port);
    return true;
}

SimulatedProvider *GuiHarness::provider(const QString &id) const
{
    for (const auto &p : m_providers) {
        if (p.first == id)
            return p.second;
    }
    return nullptr;
}

QString GuiHarness::url(const QString &path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path);
}

void GuiHarness::flushStore()
{
    if (m_store)
        m_store->flush();
}

bool GuiHarness::waitFor(const std::function<bool()> &condition, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > timeoutMs)
            return condition();
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QTest::qWait(5);
    }
    return true;
}

QJsonObject GuiHarness::chatBody(const QString &chain, bool stream, const QString &prompt)
{
    return QJsonObject{
        {QStringLiteral("model"), chain},
        {QStringLiteral("stream"), stream},
        {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                            {QStringLiteral("content"), prompt}}}}};
}

RequestRecord GuiHarness::chat(const QString &chain, bool stream)
{
    RequestRecord out;
    bool done = false;
    std::unique_ptr<GuiChat> chat(m_bridge->startChat(chatBody(chain, stream)));
    QObject::connect(chat.get(), &GuiChat::finished, chat.get(),
                     [&](const RequestRecord &record, const QString &) {
                         out = record;
                         done = true;
                     });
    if (!waitFor([&] { return done; }))
        qWarning("GuiHarness: the chat did not finish");
    return out;
}

namespace GuiTest {

namespace {
int g_generation = 0;
} // namespace

int generation()
{
    return g_generation;
}

void nextGeneration()
{
    ++g_generation;
}

} // namespace GuiTest
