#include "servicebridge.h"

#include "apierror.h"
#include "enginesink.h"
#include "openaichatrequest.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QThread>
#include <QTimer>

namespace {

constexpr int kLimitsThrottleMs = 250; // limitsChanged() at most four times a second

// Outlives the bridge: work finishing on the engine thread after the bridge is gone finds `bridge` null and
// posts nothing. A post made under the lock is discarded by Qt if the bridge is deleted afterwards.
struct Shared
{
    QMutex mutex;
    ServiceBridge *bridge = nullptr;
};

void post(const std::shared_ptr<Shared> &shared, QPointer<QObject> context, std::function<void()> work)
{
    QMutexLocker lock(&shared->mutex);
    if (!shared->bridge)
        return;
    QMetaObject::invokeMethod(
        shared->bridge,
        [context = std::move(context), work = std::move(work)]() {
            if (context)
                work();
        },
        Qt::QueuedConnection);
}

void postToBridge(const std::shared_ptr<Shared> &shared, std::function<void()> work)
{
    QMutexLocker lock(&shared->mutex);
    if (shared->bridge)
        QMetaObject::invokeMethod(shared->bridge, std::move(work), Qt::QueuedConnection);
}

// Runs `work` on `target`'s thread and waits for it (directly when that is this thread).
void runBlocking(QObject *target, const std::function<void()> &work)
{
    if (target->thread() == QThread::currentThread())
        work();
    else
        QMetaObject::invokeMethod(target, work, Qt::BlockingQueuedConnection);
}

} // namespace

// The link between a GuiChat (GUI thread) and its sink (engine thread). Each side clears its pointer under
// the lock when it goes, and the other posts to it only under the lock.
struct ChatLink
{
    QMutex mutex;
    GuiChat *chat = nullptr;
    EngineSink *sink = nullptr;
    bool stopRequested = false;
};

namespace {

// The test prompt's end of a chat: the engine delivers the answer into it as into a client connection, and
// it forwards what the answer means (text and reasoning as they come, the final record) to the GuiChat on the
// GUI thread. It reads the engine's meaning (ChatAnswer, StreamPiece::delta()), never the wire format.
class GuiChatSink : public EngineSink
{
public:
    explicit GuiChatSink(std::shared_ptr<ChatLink> link) : m_link(std::move(link))
    {
        QMutexLocker lock(&m_link->mutex);
        m_link->sink = this;
    }

    ~GuiChatSink() override
    {
        if (!m_finished) {
            // Deleted without an outcome: the engine went away under the request.
            RequestRecord record;
            record.status = 503;
            record.error = GuiChat::tr("The proxy stopped before the request finished.");
            emitFinished(record, record.error);
        }
        QMutexLocker lock(&m_link->mutex);
        m_link->sink = nullptr;
    }

    // Engine thread: the user pressed Stop (or closed the page).
    void leave()
    {
        if (m_gone)
            return;
        m_gone = true;
        emit clientGone();
    }

    bool isConnected() const override { return !m_gone; }
    qint64 pendingBytes() const override { return 0; }

    void whole(const WholeAnswer &answer) override
    {
        const ChatAnswer chat = ChatAnswer::parse(answer.body);
        forwardText(chat.reasoning, chat.text);
    }

    void begin(const ServedBy &servedBy) override { Q_UNUSED(servedBy); }

    void chunk(const StreamPiece &piece) override
    {
        if (piece.kind() != StreamPiece::Kind::Chunk)
            return;
        const ChatDelta &delta = piece.delta();
        forwardText(delta.reasoning, delta.text);
    }

    void done() override {}

    void fail(const EngineFailure &failure) override { m_error = failure.error.message; }

    void requestFinished(const RequestRecord &record) override
    {
        QString error = m_error;
        if (error.isEmpty() && record.status >= 400)
            error = record.status == 499 ? GuiChat::tr("Stopped.") : record.error;
        emitFinished(record, error);
    }

private:
    void forwardText(const QString &reasoning, const QString &text)
    {
        if (!reasoning.isEmpty())
            forward(&GuiChat::reasoningDelta, reasoning);
        if (!text.isEmpty())
            forward(&GuiChat::textDelta, text);
    }

    void forward(void (GuiChat::*signal)(const QString &), const QString &text)
    {
        QMutexLocker lock(&m_link->mutex);
        if (GuiChat *chat = m_link->chat)
            QMetaObject::invokeMethod(
                chat, [chat, signal, text] { emit(chat->*signal)(text); }, Qt::QueuedConnection);
    }

    void emitFinished(const RequestRecord &record, const QString &error)
    {
        m_finished = true;
        QMutexLocker lock(&m_link->mutex);
        if (GuiChat *chat = m_link->chat)
            QMetaObject::invokeMethod(
                chat, [chat, record, error] { emit chat->finished(record, error); }, Qt::QueuedConnection);
    }

    std::shared_ptr<ChatLink> m_link;
    QString m_error;
    bool m_gone = false;
    bool m_finished = false;
};

} // namespace

struct ServiceBridge::Private
{
    ProxyService *service = nullptr;
    StatsSource *stats = nullptr;
    std::shared_ptr<Shared> shared = std::make_shared<Shared>();
    QObject *engineContext = nullptr; // lives on the engine thread: connections and queued work land there
    QThread statsThread;
    QObject *statsContext = nullptr; // lives on the stats thread

    // Snapshots: written and read on the GUI thread only.
    std::shared_ptr<const Config> config;
    std::shared_ptr<const Config> fileConfig;
    QList<RateLimitTracker::PairStatus> limits;
    bool paused = false;
    quint16 listenPort = 0;
};

ServiceBridge::ServiceBridge(ProxyService *service, StatsSource *stats, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    qRegisterMetaType<RequestRecord>();
    qRegisterMetaType<EventLog::Event>();
    d->service = service;
    d->stats = stats;
    d->shared->bridge = this;

    d->engineContext = new QObject;
    d->engineContext->moveToThread(service->thread());

    if (stats) {
        d->statsThread.setObjectName(QStringLiteral("gui-stats"));
        d->statsContext = new QObject;
        d->statsContext->moveToThread(&d->statsThread);
        connect(&d->statsThread, &QThread::finished, d->statsContext, &QObject::deleteLater);
        d->statsThread.start();
    }

    // The first snapshots, read where the service lives. The GUI waits for the engine once, here; never the
    // other way round.
    runBlocking(d->engineContext, [this] {
        d->config = d->service->config();
        d->fileConfig = d->service->fileConfig();
        d->limits = d->service->tracker().status();
        d->paused = d->service->isPaused();
    });

    // Signals that carry their data cross as queued connections; the others are read on the engine thread.
    connect(service, &ProxyService::requestFinished, this, &ServiceBridge::requestFinished);
    connect(service, &ProxyService::chainExhausted, this, &ServiceBridge::chainExhausted);
    connect(service, &ProxyService::chainRecovered, this, &ServiceBridge::chainRecovered);
    connect(&service->events(), &EventLog::eventAdded, this, &ServiceBridge::eventAdded);
    connect(service, &ProxyService::pausedChanged, this, [this](bool paused) {
        if (d->paused == paused)
            return;
        d->paused = paused;
        emit pausedChanged(paused);
    });

    const auto shared = d->shared;
    connect(service, &ProxyService::configChanged, d->engineContext, [service, shared] {
        auto config = service->config();
        auto fileConfig = service->fileConfig();
        postToBridge(shared, [shared, config, fileConfig] {
            ServiceBridge *bridge = shared->bridge; // GUI thread: the bridge is alive while this runs
            bridge->d->config = config;
            bridge->d->fileConfig = fileConfig;
            emit bridge->configChanged();
        });
    });

    // The limiter changes often (every answer moves a window): one snapshot per throttle period at most. The
    // timer belongs to the engine thread, so it is made there.
    runBlocking(d->engineContext, [service, shared, context = d->engineContext] {
        auto *throttle = new QTimer(context);
        throttle->setSingleShot(true);
        throttle->setInterval(kLimitsThrottleMs);
        QObject::connect(throttle, &QTimer::timeout, context, [service, shared] {
            auto limits = service->tracker().status();
            postToBridge(shared, [shared, limits] {
                ServiceBridge *bridge = shared->bridge;
                bridge->d->limits = limits;
                emit bridge->limitsChanged();
            });
        });
        auto schedule = [throttle] {
            if (!throttle->isActive())
                throttle->start();
        };
        RateLimitTracker *tracker = &service->tracker();
        QObject::connect(tracker, &RateLimitTracker::stateChanged, context, schedule);
        QObject::connect(tracker, &RateLimitTracker::cooldownStarted, context, schedule);
        QObject::connect(tracker, &RateLimitTracker::cooldownEnded, context, schedule);
        QObject::connect(service, &ProxyService::configChanged, context, schedule);
    });
}

ServiceBridge::~ServiceBridge()
{
    if (d->statsContext) {
        // Stats work never outlives the bridge. A long one (a CSV export) stops at its next page, so closing
        // the app waits for one query at most.
        d->statsThread.requestInterruption();
        d->statsThread.quit();
        d->statsThread.wait();
    }
    {
        QMutexLocker lock(&d->shared->mutex);
        d->shared->bridge = nullptr;
    }
    QObject *engineContext = d->engineContext;
    if (engineContext->thread() == QThread::currentThread() || !engineContext->thread()->isRunning())
        delete engineContext;
    else
        engineContext->deleteLater();
}

std::shared_ptr<const Config> ServiceBridge::config() const
{
    return d->config;
}

std::shared_ptr<const Config> ServiceBridge::fileConfig() const
{
    return d->fileConfig;
}

QList<RateLimitTracker::PairStatus> ServiceBridge::limits() const
{
    return d->limits;
}

void ServiceBridge::setListenPort(quint16 port)
{
    d->listenPort = port;
}

QString ServiceBridge::baseUrl() const
{
    QString host = d->config->settings.host;
    if (host == QLatin1String("0.0.0.0") || host == QLatin1String("::") || host.isEmpty())
        host = QStringLiteral("127.0.0.1");
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    const int port = d->listenPort ? d->listenPort : d->config->settings.port;
    return QStringLiteral("http://%1:%2/v1").arg(host).arg(port);
}

bool ServiceBridge::hasStats() const
{
    return d->stats != nullptr;
}

void ServiceBridge::runOnEngine(std::function<void()> work)
{
    QMetaObject::invokeMethod(d->engineContext, std::move(work), Qt::QueuedConnection);
}

void ServiceBridge::runOnStats(std::function<void()> work)
{
    if (d->statsContext)
        QMetaObject::invokeMethod(d->statsContext, std::move(work), Qt::QueuedConnection);
}

void ServiceBridge::deliver(QPointer<QObject> context, std::function<void()> work)
{
    post(d->shared, std::move(context), std::move(work));
}

StatsSource *ServiceBridge::statsSourceForWorker() const
{
    return d->stats;
}

namespace {
// An admin operation on the engine thread, its result delivered to `done` on the GUI thread.
template<class Op>
std::function<void()> adminJob(ProxyService *service, std::shared_ptr<Shared> shared, QPointer<QObject> guard,
                               ServiceBridge::ResultFn done, Op op)
{
    return [service, shared = std::move(shared), guard = std::move(guard), done = std::move(done),
            op = std::move(op)]() {
        const AdminResult result = op(*service);
        if (done)
            post(shared, guard, [done, result] { done(result); });
    };
}
} // namespace

void ServiceBridge::upsertProvider(const ProviderConfig &provider, bool keepExistingKey, QObject *context,
                                   ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [provider, keepExistingKey](ProxyService &s) {
                             return s.upsertProvider(provider, keepExistingKey);
                         }));
}

void ServiceBridge::deleteProvider(const QString &id, QObject *context, ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [id](ProxyService &s) { return s.deleteProvider(id); }));
}

void ServiceBridge::upsertChain(const ChainConfig &chain, QObject *context, ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [chain](ProxyService &s) { return s.upsertChain(chain); }));
}

void ServiceBridge::deleteChain(const QString &name, QObject *context, ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [name](ProxyService &s) { return s.deleteChain(name); }));
}

void ServiceBridge::renameChain(const QString &from, const QString &to, QObject *context, ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [from, to](ProxyService &s) { return s.renameChain(from, to); }));
}

void ServiceBridge::updateSettings(const Settings &settings, QObject *context, ResultFn done)
{
    runOnEngine(adminJob(d->service, d->shared, context, std::move(done),
                         [settings](ProxyService &s) { return s.updateSettings(settings); }));
}

void ServiceBridge::resetLimits(const QString &provider, const QString &model)
{
    ProxyService *service = d->service;
    runOnEngine([service, provider, model] { service->tracker().reset(provider, model); });
}

void ServiceBridge::fetchModels(const QString &providerId, QObject *context,
                                std::function<void(const ModelList &)> done)
{
    ProxyService *service = d->service;
    const auto shared = d->shared;
    QPointer<QObject> guard(context);
    runOnEngine([service, shared, guard, providerId, done = std::move(done)] {
        ProviderModels *job = service->createModelFetch(providerId);
        if (!job) {
            ModelList list;
            list.error = ServiceBridge::tr("There is no provider \"%1\".").arg(providerId);
            post(shared, guard, [done, list] { done(list); });
            return;
        }
        QObject::connect(job, &ProviderModels::finished, job, [job, shared, guard, done] {
            ModelList list;
            list.ok = job->ok();
            list.error = job->errorString();
            list.models = job->models();
            job->deleteLater();
            post(shared, guard, [done, list] { done(list); });
        });
        job->start();
    });
}

void ServiceBridge::testChain(const QString &chain, const QString &prompt, QObject *context,
                              std::function<void(const ChainTestResult &)> done)
{
    ProxyService *service = d->service;
    const auto shared = d->shared;
    QPointer<QObject> guard(context);
    runOnEngine([service, shared, guard, chain, prompt, done = std::move(done)] {
        ChainTester *job =
            service->createChainTest(chain, prompt.isEmpty() ? ChainTester::defaultPrompt() : prompt);
        if (!job) {
            ChainTestResult result;
            result.error = ServiceBridge::tr("There is no chain \"%1\".").arg(chain);
            post(shared, guard, [done, result] { done(result); });
            return;
        }
        QObject::connect(job, &ChainTester::finished, job, [job, shared, guard, done] {
            ChainTestResult result;
            result.ok = true;
            result.results = job->results();
            job->deleteLater();
            post(shared, guard, [done, result] { done(result); });
        });
        job->start();
    });
}

GuiChat *ServiceBridge::startChat(const QJsonObject &body)
{
    auto *chat = new GuiChat;
    auto link = std::make_shared<ChatLink>();
    link->chat = chat;
    chat->m_link = link;

    // The test prompt writes an OpenAI chat body: checked as a client's would be.
    OpenAiChatRequest chatRequest;
    if (const auto error =
            OpenAiChatRequest::parse(QJsonDocument(body).toJson(QJsonDocument::Compact), &chatRequest)) {
        RequestRecord record;
        record.status = error->status;
        record.error = error->message;
        QMetaObject::invokeMethod(
            chat, [chat, record] { emit chat->finished(record, record.error); }, Qt::QueuedConnection);
        return chat;
    }
    EngineRequest request = std::move(chatRequest.request);
    request.clientKeyLabel = QStringLiteral("test prompt"); // stored in the log: not translated
    ProxyService *service = d->service;
    runOnEngine([service, link, request]() mutable {
        auto *sink = new GuiChatSink(link);
        service->startRequest(std::move(request), sink);
        QMutexLocker lock(&link->mutex);
        if (link->stopRequested && link->sink)
            QMetaObject::invokeMethod(
                sink, [sink] { sink->leave(); }, Qt::QueuedConnection);
    });
    return chat;
}

void ServiceBridge::setPaused(bool paused)
{
    ProxyService *service = d->service;
    runOnEngine([service, paused] { service->setPaused(paused); });
}

bool ServiceBridge::isPaused() const
{
    return d->paused;
}

GuiChat::GuiChat(QObject *parent) : QObject(parent) {}

GuiChat::~GuiChat()
{
    if (!m_link)
        return;
    stop();
    QMutexLocker lock(&m_link->mutex);
    m_link->chat = nullptr;
}

void GuiChat::stop()
{
    if (!m_link)
        return;
    QMutexLocker lock(&m_link->mutex);
    m_link->stopRequested = true;
    if (auto *sink = static_cast<GuiChatSink *>(m_link->sink))
        QMetaObject::invokeMethod(
            sink, [sink] { sink->leave(); }, Qt::QueuedConnection);
}
