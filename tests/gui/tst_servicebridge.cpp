// ServiceBridge, the GUI's only way to the engine: admin operations, stats on a worker thread, chats through
// GuiChat, pause, limiter snapshots, and the proof that a blocked GUI thread never stops the proxy.

#include "guiharness.h"
#include "httpclient.h"
#include "proxyservice.h"
#include "requeststore.h"
#include "simulatedprovider.h"

#include <QApplication>
#include <QFile>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <atomic>

namespace {

HttpClient::Headers auth()
{
    return {{QByteArrayLiteral("Authorization"), QByteArray("Bearer ") + GuiHarness::kApiKey}};
}

// Everything one GuiChat said.
struct ChatOutcome
{
    QString text;
    QString reasoning;
    int deltas = 0;
    int finishedCount = 0;
    RequestRecord record;
    QString error;
    bool deltaAfterFinish = false;
};

void observe(GuiChat *chat, ChatOutcome *out)
{
    QObject::connect(chat, &GuiChat::textDelta, chat, [out](const QString &t) {
        if (out->finishedCount)
            out->deltaAfterFinish = true;
        out->text += t;
        ++out->deltas;
    });
    QObject::connect(chat, &GuiChat::reasoningDelta, chat, [out](const QString &t) { out->reasoning += t; });
    QObject::connect(chat, &GuiChat::finished, chat, [out](const RequestRecord &r, const QString &e) {
        ++out->finishedCount;
        out->record = r;
        out->error = e;
    });
}

} // namespace

class TestServiceBridge : public QObject
{
    Q_OBJECT

private slots:
    void snapshotsAtStart();
    void adminRoundTrip();
    void adminErrorIsReported();
    void callbackSkippedWhenContextIsGone();
    void statsQueryRunsOffTheGuiThread();
    void chatStreamsTextAndFinishesWithServedBy();
    void wholeChatAndFailover();
    void badChatBodyFinishesWithError();
    void stopEndsTheChat();
    void deletedChatDropsTheUpstreamCall();
    void bridgeGoesWhileAStatsQueryRuns();
    void pauseRefusesNewRequests();
    void limitsFollowTheTracker();
    void fetchModelsAndTestChain();
    void proxyServesWhileGuiThreadIsBlocked();
};

void TestServiceBridge::snapshotsAtStart()
{
    GuiHarness h;
    QVERIFY(h.start());
    ServiceBridge *b = h.bridge();
    QCOMPARE(b->config()->chains.size(), 2);
    QCOMPARE(b->fileConfig()->settings.defaultChain, QStringLiteral("default"));
    QCOMPARE(b->baseUrl(), QStringLiteral("http://127.0.0.1:3429/v1"));
    QVERIFY(b->hasStats());
    QVERIFY(!b->isPaused());
    QVERIFY(b->limits().isEmpty()); // nothing learned yet
}

void TestServiceBridge::adminRoundTrip()
{
    GuiHarness h;
    QVERIFY(h.start());
    ServiceBridge *b = h.bridge();
    QSignalSpy changed(b, &ServiceBridge::configChanged);

    ChainConfig chain;
    chain.name = QStringLiteral("fresh");
    chain.entries.append({QStringLiteral("beta"), QStringLiteral("beta-model"), 0, std::nullopt});
    std::optional<AdminResult> result;
    QObject context;
    b->upsertChain(chain, &context, [&](const AdminResult &r) {
        QCOMPARE(QThread::currentThread(), qApp->thread());
        result = r;
    });
    QVERIFY(!result); // asynchronous
    QVERIFY(GuiHarness::waitFor([&] { return result.has_value(); }));
    QVERIFY2(result->ok(), qPrintable(result->error));
    QVERIFY(GuiHarness::waitFor([&] { return changed.count() >= 1; }));
    QVERIFY(b->config()->chain(QStringLiteral("fresh")));
    QVERIFY(b->fileConfig()->chain(QStringLiteral("fresh")));

    QFile file(h.configPath());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("fresh"));

    // Rename, then settings, through the same path.
    result.reset();
    b->renameChain(QStringLiteral("fresh"), QStringLiteral("renamed"), &context,
                   [&](const AdminResult &r) { result = r; });
    QVERIFY(GuiHarness::waitFor([&] { return result.has_value(); }));
    QVERIFY2(result->ok(), qPrintable(result->error));
    QVERIFY(GuiHarness::waitFor([&] { return b->config()->chain(QStringLiteral("renamed")) != nullptr; }));
    QVERIFY(!b->config()->chain(QStringLiteral("fresh")));
}

void TestServiceBridge::adminErrorIsReported()
{
    GuiHarness h;
    QVERIFY(h.start());
    std::optional<AdminResult> result;
    QObject context;
    h.bridge()->deleteProvider(QStringLiteral("alpha"), &context, [&](const AdminResult &r) { result = r; });
    QVERIFY(GuiHarness::waitFor([&] { return result.has_value(); }));
    QCOMPARE(result->status, 409); // a chain uses it
    QVERIFY(!result->error.isEmpty());
    QVERIFY(h.bridge()->config()->provider(QStringLiteral("alpha")));
}

void TestServiceBridge::callbackSkippedWhenContextIsGone()
{
    GuiHarness h;
    QVERIFY(h.start());
    bool called = false;
    auto *context = new QObject;
    h.bridge()->deleteChain(QStringLiteral("backup"), context, [&](const AdminResult &) { called = true; });
    delete context; // a dialog closed before the answer came
    QSignalSpy changed(h.bridge(), &ServiceBridge::configChanged);
    QVERIFY(GuiHarness::waitFor([&] { return changed.count() >= 1; })); // the operation itself ran
    QVERIFY(!h.bridge()->config()->chain(QStringLiteral("backup")));
    QTest::qWait(50);
    QVERIFY(!called);
}

void TestServiceBridge::statsQueryRunsOffTheGuiThread()
{
    GuiHarness h;
    QVERIFY(h.start());
    ServiceBridge *b = h.bridge();

    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(b->startChat(GuiHarness::chatBody(QStringLiteral("default"), false)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    h.flushStore();

    struct Answer
    {
        QThread *thread = nullptr;
        StatsSummary summary;
    };
    std::optional<Answer> answer;
    QThread *doneThread = nullptr;
    QObject context;
    b->queryStats<Answer>(
        [](StatsSource &stats) {
            Answer a;
            a.thread = QThread::currentThread();
            a.summary = stats.summary();
            return a;
        },
        &context,
        [&](Answer a) {
            doneThread = QThread::currentThread();
            answer = a;
        });
    QVERIFY(GuiHarness::waitFor([&] { return answer.has_value(); }));
    QVERIFY(answer->thread != qApp->thread());
    QCOMPARE(doneThread, qApp->thread());
    QCOMPARE(answer->summary.totalRequests, qint64(1));
    QCOMPARE(answer->summary.successfulRequests, qint64(1));
}

void TestServiceBridge::chatStreamsTextAndFinishesWithServedBy()
{
    GuiHarness h;
    QVERIFY(h.start());
    h.runOnEngine([&] { h.provider(QStringLiteral("alpha"))->setChunkDelayMs(20); });
    QSignalSpy finishedSignal(h.bridge(), &ServiceBridge::requestFinished);

    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(
        h.bridge()->startChat(GuiHarness::chatBody(QStringLiteral("default"), true)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    QTest::qWait(20);
    QCOMPARE(outcome.finishedCount, 1);
    QCOMPARE(outcome.text, QStringLiteral("Hello from alpha"));
    QVERIFY2(outcome.deltas >= 3, "the answer arrives in pieces, as it streams"); // one word a chunk
    QVERIFY(!outcome.deltaAfterFinish);
    QVERIFY(outcome.error.isEmpty());
    QCOMPARE(outcome.record.status, 200);
    QCOMPARE(outcome.record.provider, QStringLiteral("alpha"));
    QCOMPARE(outcome.record.model, QStringLiteral("alpha-model"));
    QVERIFY(outcome.record.stream);
    QVERIFY(outcome.record.firstTokenMs >= 0);
    QVERIFY(outcome.record.totalTokens > 0);
    // The same request reached the bridge's requestFinished (the dashboard's live feed) too.
    QVERIFY(GuiHarness::waitFor([&] { return finishedSignal.count() == 1; }));
}

void TestServiceBridge::wholeChatAndFailover()
{
    GuiHarness h;
    QVERIFY(h.start());
    h.runOnEngine(
        [&] { h.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(30)); });
    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(
        h.bridge()->startChat(GuiHarness::chatBody(QStringLiteral("default"), false)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    QCOMPARE(outcome.record.status, 200);
    QCOMPARE(outcome.record.provider, QStringLiteral("beta"));
    QCOMPARE(outcome.text, QStringLiteral("Hello from beta"));
    QCOMPARE(outcome.record.attempts.size(), 2);
    QCOMPARE(outcome.record.attempts.at(0).outcome, AttemptRecord::Outcome::RateLimited);
}

void TestServiceBridge::badChatBodyFinishesWithError()
{
    GuiHarness h;
    QVERIFY(h.start());
    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(
        h.bridge()->startChat(QJsonObject{{QStringLiteral("model"), QStringLiteral("default")}}));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    QCOMPARE(outcome.record.status, 400);
    QVERIFY(outcome.error.contains(QStringLiteral("messages")));
}

void TestServiceBridge::stopEndsTheChat()
{
    GuiHarness h;
    QVERIFY(h.start());
    h.runOnEngine([&] {
        auto *alpha = h.provider(QStringLiteral("alpha"));
        alpha->setReply(QStringLiteral("one two three four five six seven eight nine ten eleven twelve"));
        alpha->setChunkDelayMs(300);
    });
    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(
        h.bridge()->startChat(GuiHarness::chatBody(QStringLiteral("default"), true)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.deltas >= 1; }));
    chat->stop();
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    QCOMPARE(outcome.record.status, 499);
    QVERIFY(!outcome.error.isEmpty());
    QVERIFY(!outcome.text.contains(QStringLiteral("twelve")));
    QVERIFY(GuiHarness::waitFor([&] {
        int aborts = 0;
        h.runOnEngine([&] { aborts = h.provider(QStringLiteral("alpha"))->clientAborts(); });
        return aborts == 1;
    }));
}

// The test prompt page closed while an answer streams: its GuiChat goes, the upstream call is dropped and
// nothing is delivered to the deleted object.
void TestServiceBridge::deletedChatDropsTheUpstreamCall()
{
    GuiHarness h;
    QVERIFY(h.start());
    h.runOnEngine([&] {
        auto *alpha = h.provider(QStringLiteral("alpha"));
        alpha->setReply(QStringLiteral("one two three four five six seven eight nine ten eleven twelve"));
        alpha->setChunkDelayMs(300);
    });
    ChatOutcome outcome;
    GuiChat *chat = h.bridge()->startChat(GuiHarness::chatBody(QStringLiteral("default"), true));
    observe(chat, &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.deltas >= 1; }));
    QSignalSpy finished(h.bridge(), &ServiceBridge::requestFinished);
    delete chat;
    QVERIFY(GuiHarness::waitFor([&] {
        int aborts = 0;
        h.runOnEngine([&] { aborts = h.provider(QStringLiteral("alpha"))->clientAborts(); });
        return aborts == 1;
    }));
    QVERIFY(GuiHarness::waitFor([&] { return finished.count() == 1; })); // the engine recorded its end
    QCOMPARE(finished.at(0).at(0).value<RequestRecord>().status, 499);
    QCOMPARE(outcome.finishedCount, 0);
}

// Quitting while a query runs on the stats thread: the bridge waits for it, and its answer goes nowhere.
void TestServiceBridge::bridgeGoesWhileAStatsQueryRuns()
{
    GuiHarness h;
    QVERIFY(h.start());
    auto bridge = std::make_unique<ServiceBridge>(h.service(), h.store());
    std::atomic<bool> started{false};
    bool delivered = false;
    QObject context;
    bridge->queryStats<qint64>(
        [&](StatsSource &stats) {
            started = true;
            QThread::msleep(200); // still running when the bridge goes (on most machines)
            return stats.summary().totalRequests;
        },
        &context, [&](qint64) { delivered = true; });
    QVERIFY(GuiHarness::waitFor([&] { return started.load(); }));
    bridge.reset();
    QCoreApplication::processEvents();
    QTest::qWait(50);
    QVERIFY(!delivered);
    // The harness's own bridge still works.
    QCOMPARE(h.chat(QStringLiteral("default")).status, 200);
}

void TestServiceBridge::pauseRefusesNewRequests()
{
    GuiHarness::Options options;
    options.withHttp = true;
    GuiHarness h(options);
    QVERIFY(h.start());
    ServiceBridge *b = h.bridge();
    QSignalSpy paused(b, &ServiceBridge::pausedChanged);
    b->setPaused(true);
    QVERIFY(GuiHarness::waitFor([&] { return paused.count() == 1; }));
    QVERIFY(b->isPaused());
    QCOMPARE(paused.at(0).at(0).toBool(), true);

    // The GUI's own chat and an HTTP client both get the 503.
    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(b->startChat(GuiHarness::chatBody(QStringLiteral("default"), true)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    QCOMPARE(outcome.record.status, 503);
    QVERIFY(outcome.error.contains(QStringLiteral("paused")));

    const auto response = HttpClient::post(h.url(QStringLiteral("/v1/chat/completions")),
                                           HttpClient::chatBody(QStringLiteral("default"), false), auth());
    QCOMPARE(response.status, 503);
    const QJsonObject error = response.json().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("proxy_paused"));
    QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
    // Everything else keeps answering.
    QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/models")), auth()).status, 200);
    int alphaRequests = -1;
    h.runOnEngine([&] { alphaRequests = h.provider(QStringLiteral("alpha"))->requestCount(); });
    QCOMPARE(alphaRequests, 0);

    b->setPaused(false);
    QVERIFY(GuiHarness::waitFor([&] { return paused.count() == 2; }));
    QVERIFY(!b->isPaused());
    const auto again = HttpClient::post(h.url(QStringLiteral("/v1/chat/completions")),
                                        HttpClient::chatBody(QStringLiteral("default"), false), auth());
    QCOMPARE(again.status, 200);
}

void TestServiceBridge::limitsFollowTheTracker()
{
    GuiHarness h;
    QVERIFY(h.start());
    ServiceBridge *b = h.bridge();
    h.runOnEngine(
        [&] { h.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(120)); });
    QSignalSpy limits(b, &ServiceBridge::limitsChanged);
    ChatOutcome outcome;
    std::unique_ptr<GuiChat> chat(b->startChat(GuiHarness::chatBody(QStringLiteral("default"), false)));
    observe(chat.get(), &outcome);
    QVERIFY(GuiHarness::waitFor([&] { return outcome.finishedCount == 1; }));
    auto alphaStatus = [&]() -> std::optional<RateLimitTracker::PairStatus> {
        for (const auto &p : b->limits()) {
            if (p.provider == QLatin1String("alpha") && p.exhausted())
                return p;
        }
        return std::nullopt;
    };
    QVERIFY(GuiHarness::waitFor([&] { return alphaStatus().has_value(); }));
    QVERIFY(limits.count() >= 1);
    QVERIFY(alphaStatus()->cooldownUntilMs > QDateTime::currentMSecsSinceEpoch());

    // Reset from the GUI: the snapshot follows.
    b->resetLimits(QStringLiteral("alpha"), QStringLiteral("alpha-model"));
    QVERIFY(GuiHarness::waitFor([&] { return !alphaStatus().has_value(); }));
}

void TestServiceBridge::fetchModelsAndTestChain()
{
    GuiHarness h;
    QVERIFY(h.start());
    h.runOnEngine([&] {
        h.provider(QStringLiteral("beta"))
            ->setModels({QStringLiteral("beta-model"), QStringLiteral("other:free")});
    });
    QObject context;
    std::optional<ServiceBridge::ModelList> models;
    h.bridge()->fetchModels(QStringLiteral("beta"), &context,
                            [&](const ServiceBridge::ModelList &m) { models = m; });
    QVERIFY(GuiHarness::waitFor([&] { return models.has_value(); }));
    QVERIFY2(models->ok, qPrintable(models->error));
    QStringList ids;
    for (const auto &m : models->models)
        ids << m.id;
    QVERIFY(ids.contains(QStringLiteral("other:free")));

    std::optional<ServiceBridge::ModelList> unknown;
    h.bridge()->fetchModels(QStringLiteral("nope"), &context,
                            [&](const ServiceBridge::ModelList &m) { unknown = m; });
    QVERIFY(GuiHarness::waitFor([&] { return unknown.has_value(); }));
    QVERIFY(!unknown->ok);
    QVERIFY(unknown->error.contains(QStringLiteral("nope")));

    std::optional<ServiceBridge::ChainTestResult> test;
    h.bridge()->testChain(QStringLiteral("default"), QString(), &context,
                          [&](const ServiceBridge::ChainTestResult &r) { test = r; });
    QVERIFY(GuiHarness::waitFor([&] { return test.has_value(); }));
    QVERIFY(test->ok);
    QCOMPARE(test->results.size(), 2);
    QVERIFY(test->results.at(0).ok);
    QCOMPARE(test->results.at(1).provider, QStringLiteral("beta"));

    std::optional<ServiceBridge::ChainTestResult> missing;
    h.bridge()->testChain(QStringLiteral("ghost"), QString(), &context,
                          [&](const ServiceBridge::ChainTestResult &r) { missing = r; });
    QVERIFY(GuiHarness::waitFor([&] { return missing.has_value(); }));
    QVERIFY(!missing->ok);
    QVERIFY(!missing->error.isEmpty());
}

void TestServiceBridge::proxyServesWhileGuiThreadIsBlocked()
{
    GuiHarness::Options options;
    options.withHttp = true;
    GuiHarness h(options);
    QVERIFY(h.start());
    // The GUI side is listening as the app's would: a dashboard feed and a limiter view.
    int guiSawRequests = 0;
    QObject::connect(h.bridge(), &ServiceBridge::requestFinished, h.bridge(), [&] { ++guiSawRequests; });

    constexpr int kRequests = 5;
    std::atomic<int> served{0};
    std::atomic<int> failed{0};
    const QString url = h.url(QStringLiteral("/v1/chat/completions"));
    QThread *client = QThread::create([&] {
        for (int i = 0; i < kRequests; ++i) {
            const auto r =
                HttpClient::post(url, HttpClient::chatBody(QStringLiteral("default"), i % 2 == 1), auth());
            (r.status == 200 ? served : failed)++;
        }
    });
    client->start();

    // The GUI thread is busy (a long layout, a modal computation): no events are processed here at all.
    QElapsedTimer blocked;
    blocked.start();
    while ((served + failed) < kRequests && blocked.elapsed() < 60000)
        QThread::msleep(20);
    const int servedWhileBlocked = served;
    QCOMPARE(guiSawRequests, 0); // proof that the GUI thread really ran nothing meanwhile

    client->wait();
    delete client;
    QCOMPARE(servedWhileBlocked, kRequests);
    QCOMPARE(int(failed), 0);
    // Once the GUI thread runs again it catches up with what happened.
    QVERIFY(GuiHarness::waitFor([&] { return guiSawRequests == kRequests; }));
}

QTEST_MAIN(TestServiceBridge)
#include "tst_servicebridge.moc"
