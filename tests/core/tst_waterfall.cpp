// The Waterfall on its own: a fake sink that writes down what the engine tells it, two simulated providers on
// loopback as the chain's entries, a manual clock for the limiter. Each row is one request: what the first
// entry answers, whether it streams, and what the sink, the request record and the limiter must show.

#include "clock.h"
#include "configloader.h"
#include "enginesink.h"
#include "ratelimittracker.h"
#include "requestqueue.h"
#include "simulatedprovider.h"
#include "upstreampool.h"
#include "waterfall.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include <memory>

Q_DECLARE_METATYPE(SimulatedProvider::Step)

namespace {

using Step = SimulatedProvider::Step;

// What the engine told the sink, in order, as short lines ("begin a/m 1", "chunk", "done", …).
struct Journal
{
    QStringList calls;
    QList<EngineFailure> failures;
    QByteArray wholeBody;
    QString text;      // the streamed answer, from the pieces' meaning
    QSet<QString> ids; // the chunks' ids
    int roles = 0;     // chunks that named a role
    std::optional<TokenUsage> usage;
    std::optional<RequestRecord> record;
    qint64 pending = 0; // what the sink says is unsent (backpressure)

    QStringList withoutChunks() const
    {
        QStringList out;
        for (const QString &c : calls) {
            if (c != QLatin1String("chunk") && c != QLatin1String("keepalive"))
                out << c;
        }
        return out;
    }
};

class FakeSink : public EngineSink
{
public:
    explicit FakeSink(std::shared_ptr<Journal> journal) : m_journal(std::move(journal)) {}

    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return m_journal->pending; }
    void whole(const WholeAnswer &answer) override
    {
        m_journal->calls << QStringLiteral("whole %1").arg(served(answer.servedBy));
        m_journal->wholeBody = answer.body;
    }
    void begin(const ServedBy &servedBy) override
    {
        m_journal->calls << QStringLiteral("begin %1").arg(served(servedBy));
    }
    void chunk(const StreamPiece &piece) override
    {
        if (piece.kind() == StreamPiece::Kind::KeepAlive) {
            m_journal->calls << QStringLiteral("keepalive");
            return;
        }
        m_journal->calls << QStringLiteral("chunk");
        m_journal->text += piece.delta().text;
        if (!piece.delta().id.isEmpty())
            m_journal->ids.insert(piece.delta().id);
        if (!piece.delta().role.isEmpty())
            ++m_journal->roles;
    }
    void usage(const TokenUsage &usage) override
    {
        m_journal->calls << QStringLiteral("usage");
        m_journal->usage = usage;
    }
    void done() override { m_journal->calls << QStringLiteral("done"); }
    void fail(const EngineFailure &failure) override
    {
        m_journal->calls << QStringLiteral("fail %1 %2 %3")
                                .arg(failure.error.status)
                                .arg(failure.error.code, served(failure.servedBy));
        m_journal->failures << failure;
    }
    void requestFinished(const RequestRecord &record) override { m_journal->record = record; }

    // For the tests that play a client leaving.
    void leave() { emit clientGone(); }
    void drain() { emit drained(); }

private:
    static QString served(const ServedBy &s)
    {
        return (s.provider.isEmpty() ? QStringLiteral("-") : s.provider + QLatin1Char('/') + s.model) +
               QLatin1Char(' ') + QString::number(s.attempts);
    }

    std::shared_ptr<Journal> m_journal;
};

QJsonObject chatBody(bool stream)
{
    return QJsonObject{{QStringLiteral("model"), QStringLiteral("default")},
                       {QStringLiteral("stream"), stream},
                       {QStringLiteral("messages"),
                        QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                               {QStringLiteral("content"), QStringLiteral("Hello there")}}}}};
}

// Two providers (a, b) on loopback, a chain over both, the limiter on a manual clock.
struct Fixture
{
    SimulatedProvider a;
    SimulatedProvider b;
    ManualClock clock;
    std::shared_ptr<const Config> config;
    std::unique_ptr<RateLimitTracker> tracker;
    UpstreamPool pool;
    RequestQueue queue{clock};

    bool start(const QByteArray &extraSettings = {})
    {
        if (!a.listen() || !b.listen())
            return false;
        a.setReply(QStringLiteral("Hi from a"));
        b.setReply(QStringLiteral("Hi from b"));
        const QByteArray yaml = "version: 1\n"
                                "settings:\n"
                                "  apiKeys: [\"k\"]\n"
                                "  defaultChain: default\n" +
                                extraSettings +
                                "providers:\n"
                                "  - { id: a, name: A, type: generic-openai, apiKey: \"\", baseUrl: \"" +
                                a.baseUrl().toUtf8() +
                                "\" }\n"
                                "  - { id: b, name: B, type: generic-openai, apiKey: \"\", baseUrl: \"" +
                                b.baseUrl().toUtf8() +
                                "\" }\n"
                                "chains:\n"
                                "  - name: default\n"
                                "    entries:\n"
                                "      - { provider: a, model: m }\n"
                                "      - { provider: b, model: m }\n";
        const ConfigLoadResult loaded = ConfigLoader::loadString(yaml, QStringLiteral("test.yaml"));
        if (!loaded.ok()) {
            qWarning() << loaded.errors;
            return false;
        }
        config = std::make_shared<const Config>(*loaded.config);
        tracker = std::make_unique<RateLimitTracker>(clock);
        return true;
    }

    // Starts one request; the journal fills as the engine answers.
    std::shared_ptr<Journal> send(bool stream, QPointer<Waterfall> *out = nullptr,
                                  FakeSink **sinkOut = nullptr)
    {
        auto journal = std::make_shared<Journal>();
        auto *sink = new FakeSink(journal);
        auto *waterfall = new Waterfall(config, QStringLiteral("default"),
                                        EngineRequest::chat(chatBody(stream)), sink, *tracker, pool, &queue);
        if (out)
            *out = waterfall;
        if (sinkOut)
            *sinkOut = sink;
        waterfall->start();
        return journal;
    }

    int inFlight() const
    {
        return tracker->inFlight(QStringLiteral("a"), QStringLiteral("m")) +
               tracker->inFlight(QStringLiteral("b"), QStringLiteral("m"));
    }
};

QStringList outcomes(const RequestRecord &record)
{
    QStringList out;
    for (const AttemptRecord &a : record.attempts)
        out << a.provider + QLatin1Char(':') + AttemptRecord::outcomeName(a.outcome);
    return out;
}

} // namespace

class TestWaterfall : public QObject
{
    Q_OBJECT

private slots:
    // What the first entry does × whole or streamed → what the sink hears, the record, the limiter.
    void answers_data()
    {
        QTest::addColumn<Step>("first");
        QTest::addColumn<bool>("stream");
        QTest::addColumn<QStringList>("calls"); // the sink's calls, chunks left out
        QTest::addColumn<int>("status");        // the record's
        QTest::addColumn<QStringList>("attempts");
        QTest::addColumn<bool>("firstCooling"); // the limiter put entry a on cooldown

        const QStringList servedByA{QStringLiteral("whole a/m 1")};
        const QStringList servedByB{QStringLiteral("whole b/m 2")};
        const QStringList streamedByA{QStringLiteral("begin a/m 1"), QStringLiteral("usage"),
                                      QStringLiteral("done")};
        const QStringList streamedByB{QStringLiteral("begin b/m 2"), QStringLiteral("usage"),
                                      QStringLiteral("done")};
        const QStringList aOk{QStringLiteral("a:success")};

        QTest::newRow("ok whole") << Step::ok() << false << servedByA << 200 << aOk << false;
        QTest::newRow("ok stream") << Step::ok() << true << streamedByA << 200 << aOk << false;
        QTest::newRow("429 whole") << Step::rateLimited(30) << false << servedByB << 200
                                   << QStringList{QStringLiteral("a:rate_limited"),
                                                  QStringLiteral("b:success")}
                                   << true;
        QTest::newRow("429 stream") << Step::rateLimited(30) << true << streamedByB << 200
                                    << QStringList{QStringLiteral("a:rate_limited"),
                                                   QStringLiteral("b:success")}
                                    << true;
        QTest::newRow("500 whole") << Step::status(500) << false << servedByB << 200
                                   << QStringList{QStringLiteral("a:server_error"),
                                                  QStringLiteral("b:success")}
                                   << false;
        QTest::newRow("dropped before the first token")
            << Step::of(Step::Kind::DropBeforeFirstToken) << true << streamedByB << 200
            << QStringList{QStringLiteral("a:network_error"), QStringLiteral("b:success")} << false;
        Step inBand429 = Step::of(Step::Kind::InBandErrorBeforeFirstToken);
        inBand429.body = R"({"code":429,"message":"free-models-per-day"})";
        QTest::newRow("in-band 429 before the first token")
            << inBand429 << true << streamedByB << 200
            << QStringList{QStringLiteral("a:rate_limited"), QStringLiteral("b:success")} << true;
        QTest::newRow("in-band error before the first token")
            << Step::of(Step::Kind::InBandErrorBeforeFirstToken) << true << streamedByB << 200
            << QStringList{QStringLiteral("a:stream_error"), QStringLiteral("b:success")} << false;
        // After the first token a broken stream is continued by the next entry (settings.midStreamContinue).
        const QStringList continuedByB{QStringLiteral("begin a/m 1"), QStringLiteral("usage"),
                                       QStringLiteral("done")};
        QTest::newRow("dropped after tokens")
            << Step::of(Step::Kind::DropAfterTokens, 3) << true << continuedByB << 200
            << QStringList{QStringLiteral("a:stream_error"), QStringLiteral("b:success")} << false;
        Step inBand429After = Step::of(Step::Kind::InBandErrorAfterTokens, 2);
        inBand429After.body = R"({"code":429,"message":"quota gone mid-answer"})";
        QTest::newRow("in-band 429 after tokens")
            << inBand429After << true << continuedByB << 200
            << QStringList{QStringLiteral("a:stream_error"), QStringLiteral("b:success")} << true;
    }

    void answers()
    {
        QFETCH(Step, first);
        QFETCH(bool, stream);
        QFETCH(QStringList, calls);
        QFETCH(int, status);
        QFETCH(QStringList, attempts);
        QFETCH(bool, firstCooling);

        Fixture f;
        QVERIFY(f.start());
        f.a.enqueue(first);
        const auto journal = f.send(stream);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(), calls);
        QCOMPARE(journal->record->status, status);
        QCOMPARE(outcomes(*journal->record), attempts);
        QCOMPARE(f.tracker->cooldown(QStringLiteral("a"), QStringLiteral("m")).has_value(), firstCooling);
        QCOMPARE(f.inFlight(), 0); // every attempt's reservation went back
        if (status == 200 && !attempts.contains(QStringLiteral("a:stream_error"))) { // not continued
            const QString expected = journal->record->provider == QLatin1String("a")
                                         ? QStringLiteral("Hi from a")
                                         : QStringLiteral("Hi from b");
            if (stream) {
                QCOMPARE(journal->text, expected);
                QVERIFY(journal->usage);
                QCOMPARE(journal->usage->total, journal->record->totalTokens);
            } else {
                QVERIFY(journal->wholeBody.contains(expected.toUtf8()));
            }
            QVERIFY(journal->record->totalTokens > 0);
        }
    }

    void everyEntryRateLimitedSaysWhenToComeBack()
    {
        Fixture f;
        QVERIFY(f.start());
        f.a.enqueue(Step::rateLimited(30));
        f.b.enqueue(Step::rateLimited(90));
        const auto journal = f.send(false);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(),
                 QStringList{QStringLiteral("fail 429 all_providers_exhausted - 2")});
        const EngineFailure &failure = journal->failures.first();
        QCOMPARE(failure.error.kind, ApiError::Kind::RateLimit);
        QCOMPARE(failure.error.retryAfterSeconds, 30); // the first entry to free up
        QVERIFY(failure.upstreamBody.isEmpty());
        QCOMPARE(journal->record->status, 429);
        QCOMPARE(f.inFlight(), 0);

        // The next request does not ask either: both are skipped with the time they free up.
        const auto again = f.send(false);
        QTRY_VERIFY_WITH_TIMEOUT(again->record.has_value(), 10'000);
        QCOMPARE(outcomes(*again->record),
                 (QStringList{QStringLiteral("a:skipped"), QStringLiteral("b:skipped")}));
        QVERIFY2(again->record->attempts.first().reason.contains(QLatin1String("on cooldown 30s")),
                 qPrintable(again->record->attempts.first().reason));
        QCOMPARE(f.a.requests().size(), 1);
        QCOMPARE(f.b.requests().size(), 1);
    }

    void aRequestEveryEntryRefusesGetsTheFirstProvidersAnswer()
    {
        Fixture f;
        QVERIFY(f.start());
        const QByteArray body =
            R"({"error":{"message":"bad tool schema","type":"invalid_request_error","code":null}})";
        f.a.enqueue(Step::status(400, body));
        f.b.enqueue(Step::status(422, R"({"error":{"message":"other","type":"invalid_request_error"}})"));
        const auto journal = f.send(false);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(), QStringList{QStringLiteral("fail 400 invalid_request b/m 2")});
        QCOMPARE(journal->failures.first().upstreamBody, body);
        QCOMPARE(journal->failures.first().error.message, QStringLiteral("bad tool schema"));
        QCOMPARE(journal->record->status, 400);
    }

    void aClientThatLeavesStopsTheUpstreamCall()
    {
        Fixture f;
        QVERIFY(f.start());
        f.a.setChunkDelayMs(200);
        f.a.setReply(QStringLiteral("one two three four five six seven eight"));
        QSignalSpy aborted(&f.a, &SimulatedProvider::clientAborted);
        QPointer<Waterfall> waterfall;
        FakeSink *sink = nullptr;
        const auto journal = f.send(true, &waterfall, &sink);
        QTRY_VERIFY_WITH_TIMEOUT(journal->calls.contains(QStringLiteral("chunk")), 10'000);
        QCOMPARE(waterfall->state(), Waterfall::State::Streaming);
        sink->leave();
        QVERIFY(journal->record.has_value());
        QCOMPARE(journal->record->status, 499);
        QCOMPARE(outcomes(*journal->record), QStringList{QStringLiteral("a:stream_error")});
        QVERIFY(journal->record->tokensEstimated);
        QVERIFY(!journal->calls.contains(QStringLiteral("done")));
        QTRY_VERIFY_WITH_TIMEOUT(aborted.size() == 1, 10'000);
        QTRY_VERIFY_WITH_TIMEOUT(waterfall.isNull(), 10'000);
        QCOMPARE(f.inFlight(), 0);
    }

    void abortBeforeAndAfterTheFirstToken()
    {
        Fixture f;
        QVERIFY(f.start());
        f.a.enqueue(Step::of(Step::Kind::Hang));
        QPointer<Waterfall> waterfall;
        auto journal = f.send(false, &waterfall);
        QTRY_VERIFY_WITH_TIMEOUT(f.a.requests().size() == 1, 10'000);
        QCOMPARE(waterfall->state(), Waterfall::State::Calling);
        waterfall->abort(QStringLiteral("shutting_down"), QStringLiteral("bye"));
        QCOMPARE(journal->withoutChunks(), QStringList{QStringLiteral("fail 503 shutting_down - 0")});
        QCOMPARE(journal->failures.first().error.kind, ApiError::Kind::Overloaded);
        QCOMPARE(journal->record->status, 503);
        QCOMPARE(outcomes(*journal->record), QStringList{QStringLiteral("a:stream_error")});

        f.a.setChunkDelayMs(200);
        f.a.setReply(QStringLiteral("one two three four five six"));
        journal = f.send(true, &waterfall);
        QTRY_VERIFY_WITH_TIMEOUT(journal->calls.contains(QStringLiteral("chunk")), 10'000);
        waterfall->abort(QStringLiteral("shutting_down"), QStringLiteral("bye"));
        QCOMPARE(journal->withoutChunks(), (QStringList{QStringLiteral("begin a/m 1"),
                                                        QStringLiteral("fail 503 shutting_down a/m 1")}));
        QCOMPARE(journal->record->status, 503);
        QTRY_COMPARE_WITH_TIMEOUT(f.inFlight(), 0, 10'000);
    }

    void refusedRequestsNeverReachTheChain()
    {
        Fixture f;
        QVERIFY(f.start());
        auto journal = std::make_shared<Journal>();
        auto *waterfall =
            new Waterfall(f.config, QStringLiteral("default"), EngineRequest::chat(chatBody(false)),
                          new FakeSink(journal), *f.tracker, f.pool, &f.queue);
        QSignalSpy finished(waterfall, &Waterfall::finished);
        waterfall->refuse(ApiError::make(503, ApiError::Kind::Overloaded, QStringLiteral("proxy_paused"),
                                         QStringLiteral("paused")));
        QCOMPARE(journal->withoutChunks(), QStringList{QStringLiteral("fail 503 proxy_paused - -1")});
        QCOMPARE(finished.size(), 1);
        QCOMPARE(journal->record->status, 503);
        QCOMPARE(journal->record->chain, QStringLiteral("default"));
        QVERIFY(journal->record->attempts.isEmpty());
        QVERIFY(f.a.requests().isEmpty());
    }

    void aSlowClientPausesTheUpstreamUntilItDrains()
    {
        Fixture f;
        QVERIFY(f.start());
        // Far more than one read piece (64 KiB) of events: the engine stops reading after the first piece.
        QStringList words;
        for (int i = 0; i < 3000; ++i)
            words << QStringLiteral("w%1").arg(i);
        f.a.setReply(words.join(QLatin1Char(' ')));
        FakeSink *sink = nullptr;
        const auto journal = f.send(true, nullptr, &sink);
        journal->pending = Waterfall::kHighWaterBytes + 1; // the client reads nothing
        QTRY_VERIFY_WITH_TIMEOUT(journal->calls.contains(QStringLiteral("chunk")), 10'000);
        QTest::qWait(500); // the rest of the answer arrives meanwhile and waits upstream
        const qsizetype whilePaused = journal->calls.count(QStringLiteral("chunk"));
        QVERIFY2(!journal->record.has_value(), qPrintable(QString::number(whilePaused)));
        QVERIFY(whilePaused < 3000);
        journal->pending = 0;
        sink->drain();
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->record->status, 200);
        QCOMPARE(journal->text, words.join(QLatin1Char(' ')));
    }

    void aBrokenStreamIsContinuedAsOneAnswer_data()
    {
        QTest::addColumn<QString>("continuation"); // what the second entry answers to the continuation
        QTest::newRow("continues") << QStringLiteral(" four five six seven eight");
        QTest::newRow("repeats the tail first") << QStringLiteral(" two three four five six seven eight");
    }

    void aBrokenStreamIsContinuedAsOneAnswer()
    {
        QFETCH(QString, continuation);
        Fixture f;
        QVERIFY(f.start());
        f.a.setReply(QStringLiteral("one two three four five six seven eight"));
        f.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3)); // "one two three", then the connection is cut
        f.b.setReply(continuation);
        const auto journal = f.send(true);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->record->status, 200);
        QCOMPARE(journal->text, QStringLiteral("one two three four five six seven eight")); // once, no repeat
        QCOMPARE(journal->ids.size(), 1);                              // one id on every chunk
        QCOMPARE(journal->roles, 1);                                   // one role chunk
        QVERIFY(journal->calls.contains(QStringLiteral("keepalive"))); // the comment naming the switch
        QCOMPARE(outcomes(*journal->record),
                 (QStringList{QStringLiteral("a:stream_error"), QStringLiteral("b:success")}));
        QVERIFY2(journal->record->attempts.first().reason.contains(QLatin1String("continued")),
                 qPrintable(journal->record->attempts.first().reason));
        QCOMPARE(journal->record->provider, QStringLiteral("b"));
        QVERIFY(journal->record->totalTokens > journal->usage->total - 1); // both attempts counted
        // The second entry was asked to go on from what the client had read.
        const QJsonArray messages = f.b.requests().first().body.value(QLatin1String("messages")).toArray();
        QCOMPARE(messages.size(), 3);
        QCOMPARE(messages.at(1).toObject().value(QLatin1String("role")).toString(),
                 QStringLiteral("assistant"));
        QCOMPARE(messages.at(1).toObject().value(QLatin1String("content")).toString(),
                 QStringLiteral("one two three"));
        QCOMPARE(messages.at(2).toObject().value(QLatin1String("role")).toString(), QStringLiteral("user"));
        QCOMPARE(f.inFlight(), 0);
    }

    void continuationCanBeTurnedOff()
    {
        Fixture f;
        QVERIFY(f.start("  midStreamContinue: false\n"));
        f.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3));
        const auto journal = f.send(true);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(),
                 (QStringList{QStringLiteral("begin a/m 1"), QStringLiteral("fail 502 stream_error - 1")}));
        QCOMPARE(journal->record->status, 502);
        QCOMPARE(outcomes(*journal->record), QStringList{QStringLiteral("a:stream_error")});
        QVERIFY(f.b.requests().isEmpty());
    }

    void noEntryToContinueEndsWithTheBreakage()
    {
        Fixture f;
        QVERIFY(f.start());
        f.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3));
        f.b.enqueue(Step::rateLimited(30)); // the continuation is refused too
        const auto journal = f.send(true);
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(),
                 (QStringList{QStringLiteral("begin a/m 1"), QStringLiteral("fail 502 stream_error - 2")}));
        QCOMPARE(journal->record->status, 502);
        QCOMPARE(outcomes(*journal->record),
                 (QStringList{QStringLiteral("a:stream_error"), QStringLiteral("b:rate_limited")}));
        QCOMPARE(f.inFlight(), 0);
    }

    void aClientThatLeavesDuringTheSwitchCostsNothingMore()
    {
        Fixture f;
        QVERIFY(f.start());
        f.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3));
        f.b.enqueue(Step::of(Step::Kind::Hang));
        QSignalSpy aborted(&f.b, &SimulatedProvider::clientAborted);
        QPointer<Waterfall> waterfall;
        FakeSink *sink = nullptr;
        const auto journal = f.send(true, &waterfall, &sink);
        QTRY_VERIFY_WITH_TIMEOUT(f.b.requests().size() == 1, 10'000);
        QCOMPARE(waterfall->state(), Waterfall::State::Continuing);
        sink->leave();
        QCOMPARE(journal->record->status, 499);
        QTRY_VERIFY_WITH_TIMEOUT(aborted.size() == 1, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(f.inFlight(), 0, 10'000);
    }

    void queueModeWaitsForTheFirstEntryToFreeUp()
    {
        Fixture f;
        QVERIFY(f.start("  queueMode: true\n  queueMaxWaitMs: 60000\n"));
        f.tracker->markCooldown(QStringLiteral("a"), QStringLiteral("m"), 10'000,
                                RateLimitTracker::Kind::RateLimited, QStringLiteral("429"));
        f.tracker->markCooldown(QStringLiteral("b"), QStringLiteral("m"), 10'000,
                                RateLimitTracker::Kind::RateLimited, QStringLiteral("429"));
        QPointer<Waterfall> waterfall;
        const auto journal = f.send(false, &waterfall);
        QCOMPARE(waterfall->state(), Waterfall::State::Queued);
        QVERIFY(journal->calls.isEmpty());
        f.tracker->clear();
        f.queue.notifyAvailable(QStringLiteral("default"));
        QTRY_VERIFY_WITH_TIMEOUT(journal->record.has_value(), 10'000);
        QCOMPARE(journal->withoutChunks(), QStringList{QStringLiteral("whole a/m 3")});
        QCOMPARE(journal->record->status, 200);
        QCOMPARE(f.queue.depth(QStringLiteral("default")), 0);
    }
};

QTEST_GUILESS_MAIN(TestWaterfall)
#include "tst_waterfall.moc"
