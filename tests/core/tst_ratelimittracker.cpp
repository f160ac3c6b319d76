// The tracker on a manual clock: cooldowns and escalation ladders, what answers teach (windows, daily caps,
// pools, 413, no allowance, credits), learned ceilings, status, reset and persistence. Admission has its own
// test.

#include "clock.h"
#include "limithints.h"
#include "ratelimittracker.h"

#include <QFile>
#include <QSignalSpy>
#include <QtTest>

namespace {

using Block = RateLimitTracker::Admission::Block;
using Headers = LimitParsing::Headers;

constexpr qint64 T0 = 1'700'000'000'000; // a whole second
constexpr qint64 FreeDayNowMs =
    1'779'291'000'000; // Wed, 20 May 2026 15:30 UTC; the fixture resets 21 May 00:00
constexpr qint64 SummerNowMs = 1'784'145'600'000; // Wed, 15 Jul 2026 20:00 UTC = 13:00 PDT
constexpr qint64 WinterNowMs = 1'768'507'200'000; // Thu, 15 Jan 2026 20:00 UTC = 12:00 PST

QByteArray fixture(const char *name)
{
    QFile file(QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/limits/") + QLatin1String(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", name);
    return file.readAll();
}

Headers groqHeaders(int remainingRequests, const char *resetRequests, int remainingTokens,
                    const char *resetTokens)
{
    return {{"x-ratelimit-limit-requests", "14400"},
            {"x-ratelimit-remaining-requests", QByteArray::number(remainingRequests)},
            {"x-ratelimit-reset-requests", resetRequests},
            {"x-ratelimit-limit-tokens", "6000"},
            {"x-ratelimit-remaining-tokens", QByteArray::number(remainingTokens)},
            {"x-ratelimit-reset-tokens", resetTokens}};
}

// One whole attempt: admitted, answered, released with `tokens` used.
RateLimitTracker::AnswerEffect attempt(RateLimitTracker &t, const QString &provider, const QString &model,
                                       const QString &type, int status, const Headers &headers = {},
                                       const QByteArray &body = {}, qint64 tokens = 10)
{
    const auto admission = t.admit(provider, model, tokens);
    if (!admission.allowed())
        qFatal("attempt on %s/%s refused: %s", qPrintable(provider), qPrintable(model),
               qPrintable(admission.reason));
    const LimitSignal signal = LimitParsing::parse(type, status, headers, body, t.clock().nowMs());
    const auto effect =
        t.recordAnswer(provider, model, status, signal, QStringLiteral("msg"), admission.ticket);
    t.release(admission.ticket, status < 300 ? tokens : 0);
    return effect;
}

ManualRateLimits limits(std::optional<int> rpm, std::optional<int> tpm = {},
                        std::optional<int> slotLimit = {})
{
    ManualRateLimits l;
    l.requestsPerMinute = rpm;
    l.tokensPerMinute = tpm;
    l.concurrentRequests = slotLimit;
    return l;
}

const RateLimitTracker::WindowStatus *findWindow(const RateLimitTracker::PairStatus &s, const QString &source)
{
    for (const auto &w : s.windows) {
        if (w.source == source)
            return &w;
    }
    return nullptr;
}

} // namespace

class TestRateLimitTracker : public QObject
{
    Q_OBJECT

private slots:
    void cooldownLastsUntilItsEnd()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        QSignalSpy started(&tracker, &RateLimitTracker::cooldownStarted);
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("m")));
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 30'000,
                             RateLimitTracker::Kind::RateLimited, QStringLiteral("429"));
        QCOMPARE(started.size(), 1);
        clock.advance(29'999);
        const auto cd = tracker.cooldown(QStringLiteral("p"), QStringLiteral("m"));
        QVERIFY(cd);
        QCOMPARE(cd->reason, QStringLiteral("429"));
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("other"))); // per provider+model
        clock.advance(1);
        QVERIFY(!tracker.cooldown(QStringLiteral("p"), QStringLiteral("m")));
    }

    void longerCooldownIsNotShortened()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 3'600'000,
                             RateLimitTracker::Kind::RateLimited, QStringLiteral("daily cap"));
        tracker.markCooldown(QStringLiteral("p"), QStringLiteral("m"), 60'000,
                             RateLimitTracker::Kind::RateLimited, QStringLiteral("default"));
        clock.advance(120'000);
        const auto cd = tracker.cooldown(QStringLiteral("p"), QStringLiteral("m"));
        QVERIFY(cd);
        QCOMPARE(cd->reason, QStringLiteral("daily cap"));
    }

    // Repeated failures cool an entry down on a ladder: the threshold's worth of failures starts the first
    // cooldown, each repeat doubles it up to the cap. Transient failures (by hand or as 5xx answers) and
    // mid-stream failures (the reference's midStream* settings) climb their own ladders.
    void failureLaddersEscalate_data()
    {
        QTest::addColumn<int>("source"); // 0 recordFailure, 1 503 answers, 2 recordMidStreamFailure
        QTest::addColumn<int>("threshold");
        QTest::addColumn<QList<qint64>>("ladder"); // cooldown lengths, the last one the cap
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("reasonStart");
        QTest::newRow("transient failures") << 0 << 3 << QList<qint64>{10'000, 20'000, 30'000, 30'000}
                                            << int(RateLimitTracker::Kind::Failing) << QString();
        QTest::newRow("5xx answers") << 1 << 3 << QList<qint64>{10'000, 20'000, 30'000, 30'000}
                                     << int(RateLimitTracker::Kind::Failing) << QString();
        QTest::newRow("mid-stream failures")
            << 2 << 2 << QList<qint64>{120'000, 240'000, 300'000, 300'000}
            << int(RateLimitTracker::Kind::MidStream)
            << QStringLiteral("mid-stream failures exceeded threshold (cooldown #1)");
    }

    void failureLaddersEscalate()
    {
        QFETCH(int, source);
        QFETCH(int, threshold);
        QFETCH(QList<qint64>, ladder);
        QFETCH(int, kind);
        QFETCH(QString, reasonStart);
        ManualClock clock(T0);
        RateLimitTracker tracker(clock);
        RateLimitTracker::Policy policy;
        policy.failureThreshold = threshold;
        policy.failureCooldownMs = ladder.first();
        policy.failureCooldownMaxMs = ladder.last();
        policy.midStreamFailureThreshold = threshold;
        policy.midStreamCooldownMs = ladder.first();
        policy.midStreamCooldownMaxMs = ladder.last();
        tracker.setPolicy(policy);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        const auto fail = [&] {
            if (source == 0)
                tracker.recordFailure(p, m, QStringLiteral("timeout"));
            else if (source == 1)
                attempt(tracker, p, m, QStringLiteral("groq"), 503);
            else
                tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        };
        for (int i = 1; i < threshold; ++i)
            fail();
        QVERIFY(!tracker.cooldown(p, m)); // fewer than the threshold are not yet a pattern
        for (int step = 0; step < ladder.size(); ++step) {
            for (int i = step == 0 ? threshold - 1 : 0; i < threshold; ++i)
                fail();
            const auto cd = tracker.cooldown(p, m);
            QVERIFY(cd);
            QCOMPARE(int(cd->kind), kind);
            QCOMPARE(cd->untilMs - clock.nowMs(), ladder.at(step));
            if (step == 0 && !reasonStart.isEmpty())
                QVERIFY2(cd->reason.startsWith(reasonStart), qPrintable(cd->reason));
            clock.advance(ladder.at(step));
        }
        if (source == 2)
            return;
        // A success resets the streak and the escalation.
        tracker.recordSuccess(p, m);
        for (int i = 0; i < threshold; ++i)
            fail();
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), ladder.first());
    }

    void headersTrackThenExhaustUntilTheirReset()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        t.setProvider(QStringLiteral("groq"), QStringLiteral("groq"), {});
        const QString g = QStringLiteral("groq"), m = QStringLiteral("llama");
        QSignalSpy started(&t, &RateLimitTracker::cooldownStarted);
        attempt(t, g, m, g, 200, groqHeaders(1, "2m0s", 5000, "7.66s"));
        auto st = t.status();
        QCOMPARE(st.size(), 1);
        QCOMPARE(st.first().stateName(), QStringLiteral("tracking"));
        QVERIFY(st.first().quota);
        QCOMPARE(st.first().quota->remainingRequests, 1);
        QCOMPARE(st.first().quota->remainingTokens, 5000);
        QCOMPARE(st.first().quota->resetRequestsMs, 120'000);
        QCOMPARE(st.first().quota->resetTokensMs, 7'660);
        QCOMPARE(st.first().quota->lastUpdated, T0);

        // One request left: a second one in flight at the same time is not sent.
        const auto first = t.admit(g, m, 10);
        QVERIFY(first.allowed());
        const auto second = t.admit(g, m, 10);
        QCOMPARE(second.block, Block::Quota);
        QCOMPARE(second.reason, QStringLiteral("proactive: remaining requests = 0"));
        QCOMPARE(second.freesAtMs, T0 + 120'000);

        // The answer says none left: cooled down until the announced reset, not a default minute.
        clock.advance(10'000);
        t.recordAnswer(g, m, 200,
                       LimitParsing::parse(g, 200, groqHeaders(0, "1m50s", 4000, "5s"), {}, clock.nowMs()),
                       {}, first.ticket);
        t.release(first.ticket, 10);
        QCOMPARE(started.size(), 1);
        QCOMPARE(started.last().at(2).toLongLong(), T0 + 120'000);
        const auto refused = t.admit(g, m, 10);
        QCOMPARE(refused.block, Block::Cooldown);
        QCOMPARE(refused.reason, QStringLiteral("proactive: remaining requests = 0"));
        QCOMPARE(refused.freesAtMs, T0 + 120'000);
        QCOMPARE(t.status().first().stateName(), QStringLiteral("exhausted"));
        QCOMPARE(t.status().first().cooldownUntilMs, T0 + 120'000);

        // At the reset the window is full again.
        clock.set(T0 + 120'000);
        t.sweep();
        QVERIFY(t.admit(g, m, 10).allowed());
        QCOMPARE(t.status().first().stateName(), QStringLiteral("tracking"));
    }

    // A daily cap cools the entry until its calendar reset; a pool's cap covers the pool's other models.
    void dailyCapsCoolUntilTheirCalendarReset_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("nowMs");
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("untilMs");
        QTest::addColumn<QString>("coolsToo"); // another model of the provider the cap covers, or empty
        QTest::addColumn<QString>("spared");   // a model of the provider it does not cover
        // OpenRouter's free daily cap: until its X-RateLimit-Reset (00:00 UTC), for every :free model.
        QTest::newRow("openrouter free models per day")
            << QStringLiteral("openrouter") << QStringLiteral("a:free") << FreeDayNowMs << Headers()
            << fixture("openrouter-429-free-models-per-day.json") << qint64(1'779'321'600'000)
            << QStringLiteral("b:free") << QStringLiteral("paid-model");
        QTest::newRow("cerebras tokens per day: Retry-After 86399")
            << QStringLiteral("cerebras") << QStringLiteral("m") << FreeDayNowMs
            << Headers{{"Retry-After", "86399"}} << fixture("cerebras-429-tokens-day.json")
            << FreeDayNowMs + 86'399'000 << QString() << QStringLiteral("other");
        // Gemini's per-day quota: midnight in Los Angeles, with and without daylight saving time.
        QTest::newRow("gemini per day, summer (07:00 UTC)")
            << QStringLiteral("google-ai") << QStringLiteral("flash") << SummerNowMs << Headers()
            << fixture("gemini-429-rpd.json") << SummerNowMs + 11 * 3'600'000 << QString()
            << QStringLiteral("flash2");
        QTest::newRow("gemini per day, winter (08:00 UTC)")
            << QStringLiteral("google-ai") << QStringLiteral("flash") << WinterNowMs << Headers()
            << fixture("gemini-429-rpd.json") << WinterNowMs + 12 * 3'600'000 << QString()
            << QStringLiteral("flash2");
    }

    void dailyCapsCoolUntilTheirCalendarReset()
    {
        QFETCH(QString, type);
        QFETCH(QString, model);
        QFETCH(qint64, nowMs);
        QFETCH(Headers, headers);
        QFETCH(QByteArray, body);
        QFETCH(qint64, untilMs);
        QFETCH(QString, coolsToo);
        QFETCH(QString, spared);
        ManualClock clock(nowMs);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p");
        t.setProvider(p, type, {});
        const auto effect = attempt(t, p, model, type, 429, headers, body);
        QCOMPARE(effect.cooldownUntilMs, untilMs);
        QVERIFY2(effect.reason.startsWith(QLatin1String("429 ")), qPrintable(effect.reason));
        QCOMPARE(t.cooldown(p, model)->untilMs, untilMs);
        if (!coolsToo.isEmpty()) {
            const auto sibling = t.admit(p, coolsToo, 10);
            QCOMPARE(sibling.block, Block::Cooldown);
            QCOMPARE(sibling.freesAtMs, untilMs);
        }
        QVERIFY(t.admit(p, spared, 10).allowed());
    }

    void openRouterFreeDailyCapCoolsItsPool()
    {
        ManualClock clock(FreeDayNowMs);
        RateLimitTracker t(clock);
        const QString o = QStringLiteral("openrouter");
        t.setProvider(o, o, {});
        QSignalSpy started(&t, &RateLimitTracker::cooldownStarted);
        const auto effect = attempt(t, o, QStringLiteral("a:free"), o, 429, {},
                                    fixture("openrouter-429-free-models-per-day.json"));
        QVERIFY2(effect.reason.startsWith(QLatin1String("429 daily cap")), qPrintable(effect.reason));
        QCOMPARE(started.last().at(1).toString(), RateLimitTracker::freeModelsPool());
    }

    // Quota the provider shares across models lives in a pool that every covered model consults.
    void pooledQuotaCoversEveryModelOfThePool_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("scope"); // ManualRateLimits::Scope
        QTest::addColumn<int>("status");
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("covered");
        QTest::addColumn<QString>("uncovered"); // empty: every model is covered
        QTest::addColumn<qint64>("freesAtMs");
        // A success's X-RateLimit-* on a :free model describe the account's pool.
        QTest::newRow("openrouter :free pool from a success's headers")
            << QStringLiteral("openrouter") << int(ManualRateLimits::Scope::Model) << 200
            << Headers{{"X-RateLimit-Limit", "50"},
                       {"X-RateLimit-Remaining", "0"},
                       {"X-RateLimit-Reset", QByteArray::number(T0 + 600'000)}}
            << QByteArray() << QStringLiteral("a:free") << QStringLiteral("b:free") << QStringLiteral("paid")
            << T0 + 600'000;
        // rateLimits.scope: provider pools everything the provider says, for every model.
        QTest::newRow("scope: provider pools a 429")
            << QStringLiteral("groq") << int(ManualRateLimits::Scope::Provider) << 429
            << Headers{{"retry-after", "30"}} << fixture("groq-429-tpm.json") << QStringLiteral("x")
            << QStringLiteral("y") << QString() << T0 + 30'000;
    }

    void pooledQuotaCoversEveryModelOfThePool()
    {
        QFETCH(QString, type);
        QFETCH(int, scope);
        QFETCH(int, status);
        QFETCH(Headers, headers);
        QFETCH(QByteArray, body);
        QFETCH(QString, model);
        QFETCH(QString, covered);
        QFETCH(QString, uncovered);
        QFETCH(qint64, freesAtMs);
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p");
        ManualRateLimits rules;
        rules.scope = ManualRateLimits::Scope(scope);
        t.setProvider(p, type, rules);
        attempt(t, p, model, type, status, headers, body);
        QCOMPARE(t.check(p, covered, 0).block, Block::Cooldown);
        QCOMPARE(t.check(p, covered, 0).freesAtMs, freesAtMs);
        if (!uncovered.isEmpty())
            QVERIFY(t.check(p, uncovered, 0).allowed());
        clock.set(freesAtMs);
        QVERIFY(t.admit(p, covered, 0).allowed());
    }

    // What the tray's health asks of a copied status snapshot: is this entry cooling down?
    void isCoolingAsksPairsAndPools_data()
    {
        using State = RateLimitTracker::PairStatus::State;
        QTest::addColumn<QString>("pairModel");
        QTest::addColumn<int>("state");
        QTest::addColumn<qint64>("untilMs"); // from now; 0: unknown
        QTest::addColumn<QString>("entryModel");
        QTest::addColumn<bool>("cooling");
        const QString m = QStringLiteral("m");
        const QString free = RateLimitTracker::freeModelsPool();
        const QString all = RateLimitTracker::allModelsPool();
        QTest::newRow("its own pair") << m << int(State::Exhausted) << qint64(60'000) << m << true;
        QTest::newRow("no known end") << m << int(State::Exhausted) << qint64(0) << m << true;
        QTest::newRow("over, not swept yet") << m << int(State::Exhausted) << qint64(-1) << m << false;
        QTest::newRow("tracking is not cooling") << m << int(State::Tracking) << qint64(0) << m << false;
        QTest::newRow("another model")
            << m << int(State::Exhausted) << qint64(60'000) << QStringLiteral("n") << false;
        QTest::newRow("the provider's pool")
            << all << int(State::Exhausted) << qint64(60'000) << QStringLiteral("n") << true;
        QTest::newRow(":free pool, a :free model")
            << free << int(State::Exhausted) << qint64(60'000) << QStringLiteral("x:free") << true;
        QTest::newRow(":free pool, a paid model")
            << free << int(State::Exhausted) << qint64(60'000) << QStringLiteral("x") << false;
    }

    void isCoolingAsksPairsAndPools()
    {
        QFETCH(QString, pairModel);
        QFETCH(int, state);
        QFETCH(qint64, untilMs);
        QFETCH(QString, entryModel);
        QFETCH(bool, cooling);
        RateLimitTracker::PairStatus pair;
        pair.provider = QStringLiteral("p");
        pair.model = pairModel;
        pair.state = RateLimitTracker::PairStatus::State(state);
        pair.cooldownUntilMs = untilMs == 0 ? 0 : T0 + untilMs;
        RateLimitTracker::PairStatus other = pair;
        other.provider = QStringLiteral("q");
        QCOMPARE(RateLimitTracker::isCooling({pair}, QStringLiteral("p"), entryModel, T0), cooling);
        QVERIFY(!RateLimitTracker::isCooling({other}, QStringLiteral("p"), entryModel, T0));
    }

    void tooLargeSkipsOnlyThisRequest()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString g = QStringLiteral("groq"), m = QStringLiteral("llama");
        t.setProvider(g, g, {});
        QSignalSpy started(&t, &RateLimitTracker::cooldownStarted);
        const auto effect = attempt(t, g, m, g, 413, {}, fixture("groq-413-tpm-too-large.json"));
        QVERIFY(effect.skipThisRequest);
        QCOMPARE(effect.cooldownUntilMs, 0);
        QCOMPARE(started.size(), 0);
        QVERIFY(!t.cooldown(g, m));
        QVERIFY(t.admit(g, m, 10).allowed());
    }

    void learnsACeilingFromA429WithoutNumbers()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString n = QStringLiteral("nim"), m = QStringLiteral("kimi"),
                      type = QStringLiteral("nvidia-nim");
        t.setProvider(n, type, {});
        for (int i = 0; i < 5; ++i) {
            attempt(t, n, m, type, 200);
            clock.advance(1'000);
        }
        const auto effect = attempt(t, n, m, type, 429, {{"Retry-After", "30"}}, fixture("nvidia-429.json"));
        QCOMPARE(effect.cooldownUntilMs, clock.nowMs() + 30'000);
        const qint64 windowStart = effect.cooldownUntilMs;
        const auto status = t.status(); // kept: findWindow points into it
        const auto *learned = findWindow(status.first(), QStringLiteral("learned"));
        QVERIFY(learned);
        QCOMPARE(learned->limit, 5);
        QCOMPARE(learned->span, LimitWindow::Span::Minute);

        // The next window: five requests, then the entry is skipped instead of asked for a sixth.
        clock.set(windowStart);
        for (int i = 0; i < 5; ++i)
            attempt(t, n, m, type, 200);
        const auto refused = t.admit(n, m, 10);
        QCOMPARE(refused.block, Block::Learned);
        QCOMPARE(refused.reason, QStringLiteral("learned limit: 5 requests per minute reached"));
        QCOMPARE(refused.freesAtMs, windowStart + 60'000);
        clock.set(windowStart + 60'000);
        QVERIFY(t.admit(n, m, 10).allowed());

        // Real numbers replace the guess.
        attempt(t, n, m, QStringLiteral("openai"), 200,
                {{"x-ratelimit-limit-requests", "40"},
                 {"x-ratelimit-remaining-requests", "30"},
                 {"x-ratelimit-reset-requests", "20s"}});
        QVERIFY(!findWindow(t.status().first(), QStringLiteral("learned")));
        QVERIFY(findWindow(t.status().first(), QStringLiteral("header")));
    }

    // Answers that waiting a minute does not cure, and a busy provider: the kind and length of the cooldown.
    void longAndShortCooldowns_data()
    {
        using Kind = RateLimitTracker::Kind;
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("status");
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("kind"); // RateLimitTracker::Kind
        QTest::addColumn<qint64>("cooldownMs");
        QTest::addColumn<QString>("reasonStart");
        QTest::addColumn<bool>("waitingHelps");  // check() names when it frees
        QTest::addColumn<bool>("wholeProvider"); // every model of the provider cools down
        const RateLimitTracker::Policy policy;
        QTest::newRow("mistral: no allowance (limit 0)")
            << QStringLiteral("mistral") << 429
            << Headers{{"x-ratelimit-limit-req-minute", "0"}, {"x-ratelimit-remaining-req-minute", "0"}}
            << fixture("mistral-429-rate-limited.json") << int(Kind::NoAllowance)
            << policy.noAllowanceCooldownMs << QStringLiteral("429 ") << false << false;
        QTest::newRow("openrouter: credits exhausted")
            << QStringLiteral("openrouter") << 402 << Headers() << fixture("openrouter-402-credits.json")
            << int(Kind::Credits) << policy.creditsCooldownMs
            << QStringLiteral("402 payment required (credits exhausted)") << true << false;
        // Not our quota: a short cooldown, and nothing learned from it.
        QTest::newRow("cerebras: busy queue")
            << QStringLiteral("cerebras") << 429 << Headers() << fixture("cerebras-429-queue.json")
            << int(Kind::RateLimited) << policy.capacityCooldownMs << QStringLiteral("429 ") << true << false;
        QTest::newRow("401: the key is refused")
            << QStringLiteral("groq") << 401 << Headers() << QByteArray() << int(Kind::Misconfigured)
            << policy.misconfiguredCooldownMs << QStringLiteral("401") << false << true;
    }

    void longAndShortCooldowns()
    {
        QFETCH(QString, type);
        QFETCH(int, status);
        QFETCH(Headers, headers);
        QFETCH(QByteArray, body);
        QFETCH(int, kind);
        QFETCH(qint64, cooldownMs);
        QFETCH(QString, reasonStart);
        QFETCH(bool, waitingHelps);
        QFETCH(bool, wholeProvider);
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        t.setProvider(p, type, {});
        attempt(t, p, m, type, 200); // a success first: the failure must not turn into a learned ceiling
        const auto effect = attempt(t, p, m, type, status, headers, body);
        QVERIFY2(effect.reason.startsWith(reasonStart), qPrintable(effect.reason));
        const auto cd = t.cooldown(p, m);
        QVERIFY(cd);
        QCOMPARE(int(cd->kind), kind);
        QCOMPARE(cd->untilMs, T0 + cooldownMs);
        QCOMPARE(t.check(p, m, 0).freesAtMs, waitingHelps ? T0 + cooldownMs : 0);
        QCOMPARE(bool(t.cooldown(p, QStringLiteral("other"))), wholeProvider);
        for (const auto &pair : t.status())
            QVERIFY(!findWindow(pair, QStringLiteral("learned")));
    }

    void statusResetAndSnapshot()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString g = QStringLiteral("groq");
        t.setProvider(g, g, {});
        attempt(t, g, QStringLiteral("a"), g, 200);
        attempt(t, g, QStringLiteral("b"), g, 429, {{"retry-after", "30"}}, fixture("groq-429-tpm.json"));
        const auto st = t.status();
        QCOMPARE(st.size(), 2);
        QCOMPARE(st.at(0).stateName(), QStringLiteral("available"));
        QVERIFY(!st.at(0).quota);
        QCOMPARE(st.at(1).stateName(), QStringLiteral("exhausted"));
        QVERIFY2(st.at(1).reason.startsWith(QLatin1String("429 ")), qPrintable(st.at(1).reason));
        QCOMPARE(st.at(1).cooldownUntilMs, T0 + 30'000);
        QVERIFY(t.snapshot().at(1).cooldown);

        QSignalSpy ended(&t, &RateLimitTracker::cooldownEnded);
        t.reset(g, QStringLiteral("b"));
        QCOMPARE(ended.size(), 1);
        QVERIFY(t.admit(g, QStringLiteral("b"), 1).allowed());
        t.reset(g, QString());
        QCOMPARE(t.status().size(), 1); // b keeps its slot in flight, nothing else
        QCOMPARE(t.status().first().inUse, 1);
    }

    void stateSurvivesARestart()
    {
        ManualClock clock(T0);
        RateLimitTracker before(clock);
        const QString g = QStringLiteral("groq"), p = QStringLiteral("p"), n = QStringLiteral("nim");
        before.setProvider(g, g, {});
        before.setProvider(p, QStringLiteral("openai"), limits(2));
        before.setProvider(n, QStringLiteral("nvidia-nim"), {});
        before.markCooldown(g, QStringLiteral("long"), 3'600'000, RateLimitTracker::Kind::RateLimited,
                            QStringLiteral("429 daily cap"));
        before.markCooldown(g, QStringLiteral("short"), 10'000, RateLimitTracker::Kind::RateLimited,
                            QStringLiteral("429 rate limited"));
        attempt(before, g, QStringLiteral("known"), g, 200, groqHeaders(7, "5m0s", 5000, "7s"));
        attempt(before, p, QStringLiteral("m"), QStringLiteral("openai"), 200);
        attempt(before, p, QStringLiteral("m"), QStringLiteral("openai"), 200);
        for (int i = 0; i < 3; ++i)
            attempt(before, n, QStringLiteral("k"), QStringLiteral("nvidia-nim"), 200);
        attempt(before, n, QStringLiteral("k"), QStringLiteral("nvidia-nim"), 429, {{"Retry-After", "600"}},
                fixture("nvidia-429.json"));
        const QByteArray saved = before.saveState();

        clock.advance(20'000); // the short cooldown and the 7 s token window are over by now
        RateLimitTracker after(clock);
        after.setProvider(g, g, {});
        after.setProvider(p, QStringLiteral("openai"), limits(2));
        after.setProvider(n, QStringLiteral("nvidia-nim"), {});
        QSignalSpy started(&after, &RateLimitTracker::cooldownStarted);
        QVERIFY(after.restoreState(saved));
        QCOMPARE(started.size(), 2); // long and nim/k
        QCOMPARE(after.cooldown(g, QStringLiteral("long"))->untilMs, T0 + 3'600'000);
        QCOMPARE(after.cooldown(g, QStringLiteral("long"))->reason, QStringLiteral("429 daily cap"));
        QVERIFY(!after.cooldown(g, QStringLiteral("short")));
        QCOMPARE(after.admit(p, QStringLiteral("m"), 1).block, Block::Manual); // the minute's two requests
        const auto known = after.status();
        const auto it = std::find_if(known.begin(), known.end(),
                                     [](const auto &s) { return s.model == QLatin1String("known"); });
        QVERIFY(it != known.end());
        QCOMPARE(it->quota->remainingRequests, 7);
        QCOMPARE(it->quota->remainingTokens, 6000); // that window refilled while we were down
        const auto k = std::find_if(known.begin(), known.end(),
                                    [](const auto &s) { return s.model == QLatin1String("k"); });
        QVERIFY(k != known.end());
        QCOMPARE(findWindow(*k, QStringLiteral("learned"))->limit, 3);
    }

    // Garbage is refused with a warning (or its bad entries skipped) and changes nothing.
    void restoreStateRefusesGarbage_data()
    {
        QTest::addColumn<QByteArray>("saved");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<QString>("warning");
        QTest::newRow("not json") << QByteArray("not json") << false
                                  << QStringLiteral("ignoring saved rate-limit state");
        QTest::newRow("unknown version") << QByteArray(R"({"version":99,"scopes":[]})") << false
                                         << QStringLiteral("ignoring saved rate-limit state");
        QTest::newRow("malformed entries")
            << QByteArray(
                   R"({"version":1,"scopes":[42,{"provider":""},{"provider":"x","model":"y","pool":true}]})")
            << true << QStringLiteral("malformed entries ignored");
    }

    void restoreStateRefusesGarbage()
    {
        QFETCH(QByteArray, saved);
        QFETCH(bool, accepted);
        QFETCH(QString, warning);
        ManualClock clock(T0);
        RateLimitTracker fresh(clock);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(warning));
        QCOMPARE(fresh.restoreState(saved), accepted);
        QVERIFY(fresh.status().isEmpty());
        QVERIFY(fresh.restoreState(fresh.saveState()));
    }

    void sweepNoticesRefilledWindows()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString g = QStringLiteral("groq"), m = QStringLiteral("llama");
        t.setProvider(g, g, {});
        attempt(t, g, m, g, 200, groqHeaders(3, "30s", 0, "5s"));
        QSignalSpy freed(&t, &RateLimitTracker::entryFreed);
        QSignalSpy changed(&t, &RateLimitTracker::stateChanged);
        clock.advance(5'000);
        t.sweep();
        QVERIFY(freed.size() >= 1); // the token cooldown ended and its window refilled
        QVERIFY(changed.size() >= 1);
        QVERIFY(t.admit(g, m, 100).allowed());
    }
};

QTEST_GUILESS_MAIN(TestRateLimitTracker)
#include "tst_ratelimittracker.moc"
