#pragma once

#include "chaintester.h"
#include "config.h"
#include "eventlog.h"
#include "providermodels.h"
#include "proxyservice.h"
#include "ratelimittracker.h"
#include "requestrecord.h"
#include "statssource.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

class GuiChat;
struct ChatLink;

// The GUI's only way to the engine. ProxyService lives on the engine thread and the request log's connections
// are per thread, so every widget talks to this GUI-thread object instead: it keeps snapshots (config,
// limiter status) that widgets read without locking, runs admin operations on the engine thread, runs stats
// queries on a worker thread of its own, and re-emits the service's signals on the GUI thread. A blocked GUI
// thread never delays the engine: nothing here makes the engine wait for the GUI.
//
// Every asynchronous call takes a `context`: `done` runs on the GUI thread, and not at all if `context` was
// destroyed meanwhile (a closed dialog).
class ServiceBridge : public QObject
{
    Q_OBJECT

public:
    using ResultFn = std::function<void(const AdminResult &)>;

    struct ModelList
    {
        bool ok = false;
        QString error; // why not, for the user, when !ok
        QList<ProviderModels::Model> models;
    };

    struct ChainTestResult
    {
        bool ok = false; // false: the chain does not exist (error says so)
        QString error;
        QList<ChainTester::Result> results;
    };

    // `service` lives on another thread (or this one, in tests); `stats` may be null (no request log).
    ServiceBridge(ProxyService *service, StatsSource *stats, QObject *parent = nullptr);
    ~ServiceBridge() override;

    // Snapshots, current as of the last configChanged() / limitsChanged().
    std::shared_ptr<const Config> config() const;     // what runs
    std::shared_ptr<const Config> fileConfig() const; // what the file says: edit this one and send it back
    QList<RateLimitTracker::PairStatus> limits() const;
    // "http://127.0.0.1:3429/v1" for the running host and port (loopback shown for 0.0.0.0).
    QString baseUrl() const;
    // The port the server really listens on, when it differs from settings.port (port 0); for baseUrl().
    void setListenPort(quint16 port);
    bool hasStats() const;

    // Admin operations, on the engine thread (ProxyService's rules: validated, saved, applied live).
    void upsertProvider(const ProviderConfig &provider, bool keepExistingKey, QObject *context,
                        ResultFn done);
    void deleteProvider(const QString &id, QObject *context, ResultFn done);
    void upsertChain(const ChainConfig &chain, QObject *context, ResultFn done);
    void deleteChain(const QString &name, QObject *context, ResultFn done);
    void renameChain(const QString &from, const QString &to, QObject *context, ResultFn done);
    void updateSettings(const Settings &settings, QObject *context, ResultFn done);
    // Forgets what the limiter knows of one entry (its cooldown and windows); limitsChanged() follows.
    void resetLimits(const QString &provider, const QString &model);

    // A query of the request log on the bridge's stats thread; `done` gets its result on the GUI thread.
    // Without a request log `done` is not called.
    template<class R>
    void queryStats(std::function<R(StatsSource &)> query, QObject *context, std::function<void(R)> done);

    // "Fetch models" and "test whole chain", run on the engine's upstream pool.
    void fetchModels(const QString &providerId, QObject *context,
                     std::function<void(const ModelList &)> done);
    void testChain(const QString &chain, const QString &prompt, QObject *context,
                   std::function<void(const ChainTestResult &)> done);

    // Sends a chat request (an OpenAI body; "model" picks the chain) through the proxy as a client would, but
    // without HTTP. The returned object lives on the GUI thread and is owned by the caller.
    GuiChat *startChat(const QJsonObject &body);

    // Pause: the proxy answers new chat requests with 503 "proxy_paused" until resumed; running ones finish.
    void setPaused(bool paused);
    bool isPaused() const;

signals:
    void configChanged();
    void limitsChanged(); // at most a few times a second
    void requestFinished(const RequestRecord &record);
    void chainExhausted(const QString &chain, qint64 retryAfterSeconds);
    void chainRecovered(const QString &chain);
    void eventAdded(const EventLog::Event &event);
    void pausedChanged(bool paused);

private:
    void runOnEngine(std::function<void()> work);
    void runOnStats(std::function<void()> work);
    // Thread-safe: runs `work` on the GUI thread unless `context` (never null when the call was made) is
    // gone.
    void deliver(QPointer<QObject> context, std::function<void()> work);
    StatsSource *statsSourceForWorker() const; // the request log, used only on the stats thread

    struct Private;
    std::unique_ptr<Private> d;
};

// One chat sent by the test prompt page. Signals arrive on the GUI thread in this order: zero or more
// textDelta, then exactly one finished (also after stop()).
class GuiChat : public QObject
{
    Q_OBJECT

public:
    ~GuiChat() override;
    // Cancels the request (the upstream call is dropped, as for a client that left); finished() follows.
    void stop();

signals:
    void textDelta(const QString &text);      // content as it streams in
    void reasoningDelta(const QString &text); // reasoning_content, where a model sends it
    // The whole outcome: record.provider/model served it (status < 400), record.attempts say why earlier
    // entries were skipped, record.firstTokenMs/latencyMs/tokens as logged. errorMessage is the
    // client-visible error, if any.
    void finished(const RequestRecord &record, const QString &errorMessage);

protected:
    explicit GuiChat(QObject *parent = nullptr);
    friend class ServiceBridge;

private:
    std::shared_ptr<ChatLink> m_link; // to the sink on the engine thread
};

// queryStats is a template: its body stays here.
template<class R>
void ServiceBridge::queryStats(std::function<R(StatsSource &)> query, QObject *context,
                               std::function<void(R)> done)
{
    if (!hasStats())
        return;
    QPointer<QObject> guard(context);
    runOnStats([this, query = std::move(query), guard, done = std::move(done)]() {
        // Runs on the stats thread.
        auto result = std::make_shared<R>(query(*statsSourceForWorker()));
        deliver(guard, [done, result]() { done(*result); });
    });
}
