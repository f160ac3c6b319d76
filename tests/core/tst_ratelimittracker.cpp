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

    void repeatedFailuresEscalate()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        RateLimitTracker::Policy policy;
        policy.failureThreshold = 3;
        policy.failureCooldownMs = 10'000;
        policy.failureCooldownMaxMs = 30'000;
        tracker.setPolicy(policy);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        tracker.recordFailure(p, m, QStringLiteral("500"));
        tracker.recordFailure(p, m, QStringLiteral("500"));
        QVERIFY(!tracker.cooldown(p, m)); // two failures are not yet a pattern
        tracker.recordFailure(p, m, QStringLiteral("500"));
        auto cd = tracker.cooldown(p, m);
        QVERIFY(cd);
        QCOMPARE(cd->kind, RateLimitTracker::Kind::Failing);
        QCOMPARE(cd->untilMs - clock.nowMs(), 10'000);
        clock.advance(10'000);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("timeout"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 20'000);
        clock.advance(20'000);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("timeout"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 30'000); // capped
        // A success resets the streak and the escalation.
        clock.advance(30'000);
        tracker.recordSuccess(p, m);
        for (int i = 0; i < 3; ++i)
            tracker.recordFailure(p, m, QStringLiteral("500"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 10'000);
        // 5xx answers climb the same ladder through recordAnswer.
        clock.advance(10'000);
        for (int i = 0; i < 3; ++i)
            attempt(tracker, p, m, QStringLiteral("groq"), 503);
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 20'000);
    }

    void midStreamFailuresFollowTheReferenceSettings()
    {
        ManualClock clock;
        RateLimitTracker tracker(clock);
        RateLimitTracker::Policy policy;
        policy.midStreamFailureThreshold = 2;
        policy.midStreamCooldownMs = 120'000;
        policy.midStreamCooldownMaxMs = 300'000;
        tracker.setPolicy(policy);
        const QString p = QStringLiteral("p"), m = QStringLiteral("m");
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QVERIFY(!tracker.cooldown(p, m));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 120'000);
        QCOMPARE(tracker.cooldown(p, m)->kind, RateLimitTracker::Kind::MidStream);
        QVERIFY(tracker.cooldown(p, m)->reason.startsWith(
            QLatin1String("mid-stream failures exceeded threshold (cooldown #1)")));
        clock.advance(120'000);
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 240'000);
        QVERIFY(tracker.cooldown(p, m)->reason.contains(QLatin1String("(cooldown #2)")));
        clock.advance(240'000);
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        tracker.recordMidStreamFailure(p, m, QStringLiteral("drop"));
        QCOMPARE(tracker.cooldown(p, m)->untilMs - clock.nowMs(), 300'000);
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
        QCOMPARE(st.first().status, QStringLiteral("tracking"));
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
        QCOMPARE(t.status().first().status, QStringLiteral("exhausted"));
        QCOMPARE(t.status().first().cooldownUntilMs, T0 + 120'000);

        // At the reset the window is full again.
        clock.set(T0 + 120'000);
        t.sweep();
        QVERIFY(t.admit(g, m, 10).allowed());
        QCOMPARE(t.status().first().status, QStringLiteral("tracking"));
    }

    void dailyCapsCoolUntilTheirCalendarReset()
    {
        ManualClock clock(FreeDayNowMs);
        RateLimitTracker t(clock);
        const QString o = QStringLiteral("openrouter");
        t.setProvider(o, o, {});
        QSignalSpy started(&t, &RateLimitTracker::cooldownStarted);
        // OpenRouter's free daily cap: until its X-RateLimit-Reset (00:00 UTC), for every :free model.
        const auto effect = attempt(t, o, QStringLiteral("a:free"), o, 429, {},
                                    fixture("openrouter-429-free-models-per-day.json"));
        QCOMPARE(effect.cooldownUntilMs, 1'779'321'600'000);
        QVERIFY2(effect.reason.startsWith(QLatin1String("429 daily cap")), qPrintable(effect.reason));
        QCOMPARE(started.last().at(1).toString(), RateLimitTracker::freeModelsPool());
        const auto sibling = t.admit(o, QStringLiteral("b:free"), 10);
        QCOMPARE(sibling.block, Block::Cooldown);
        QCOMPARE(sibling.freesAtMs, 1'779'321'600'000);
        QVERIFY(t.admit(o, QStringLiteral("paid-model"), 10).allowed()); // paid models are not in the pool

        // Cerebras tokens per day: Retry-After 86399.
        const QString c = QStringLiteral("cerebras");
        t.setProvider(c, c, {});
        attempt(t, c, QStringLiteral("m"), c, 429, {{"Retry-After", "86399"}},
                fixture("cerebras-429-tokens-day.json"));
        QCOMPARE(t.cooldown(c, QStringLiteral("m"))->untilMs, FreeDayNowMs + 86'399'000);

        // Gemini's per-day quota: midnight in Los Angeles, with and without daylight saving time.
        const QString gem = QStringLiteral("gemini");
        t.setProvider(gem, QStringLiteral("google-ai"), {});
        clock.set(SummerNowMs);
        attempt(t, gem, QStringLiteral("flash"), QStringLiteral("google-ai"), 429, {},
                fixture("gemini-429-rpd.json"));
        QCOMPARE(t.cooldown(gem, QStringLiteral("flash"))->untilMs,
                 SummerNowMs + 11 * 3'600'000); // 07:00 UTC
        clock.set(WinterNowMs);
        attempt(t, gem, QStringLiteral("flash2"), QStringLiteral("google-ai"), 429, {},
                fixture("gemini-429-rpd.json"));
        QCOMPARE(t.cooldown(gem, QStringLiteral("flash2"))->untilMs,
                 WinterNowMs + 12 * 3'600'000); // 08:00 UTC
    }

    void pooledQuotaCoversEveryModelOfThePool()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString o = QStringLiteral("openrouter");
        t.setProvider(o, o, {});
        // A success's X-RateLimit-* on a :free model describe the account's pool.
        const Headers empty{{"X-RateLimit-Limit", "50"},
                            {"X-RateLimit-Remaining", "0"},
                            {"X-RateLimit-Reset", QByteArray::number(T0 + 600'000)}};
        attempt(t, o, QStringLiteral("a:free"), o, 200, empty);
        QCOMPARE(t.check(o, QStringLiteral("b:free"), 0).block, Block::Cooldown);
        QCOMPARE(t.check(o, QStringLiteral("b:free"), 0).freesAtMs, T0 + 600'000);
        QVERIFY(t.check(o, QStringLiteral("paid"), 0).allowed());
        const auto st = t.status();
        QCOMPARE(st.size(), 1); // b:free is in no chain here, so only the asked pair shows
        clock.advance(600'000);
        QVERIFY(t.admit(o, QStringLiteral("b:free"), 0).allowed());

        // rateLimits.scope: provider pools everything the provider says, for every model.
        const QString g = QStringLiteral("groq");
        ManualRateLimits shared;
        shared.scope = ManualRateLimits::Scope::Provider;
        t.setProvider(g, g, shared);
        attempt(t, g, QStringLiteral("x"), g, 429, {{"retry-after", "30"}}, fixture("groq-429-tpm.json"));
        QCOMPARE(t.check(g, QStringLiteral("y"), 0).block, Block::Cooldown);
        QCOMPARE(t.cooldown(g, QStringLiteral("y"))->untilMs, clock.nowMs() + 30'000);
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

    void noAllowanceAndCreditsCoolForLong()
    {
        ManualClock clock(T0);
        RateLimitTracker t(clock);
        const QString mi = QStringLiteral("mistral");
        t.setProvider(mi, mi, {});
        attempt(t, mi, QStringLiteral("small"), mi, 429,
                {{"x-ratelimit-limit-req-minute", "0"}, {"x-ratelimit-remaining-req-minute", "0"}},
                fixture("mistral-429-rate-limited.json"));
        const auto cd = t.cooldown(mi, QStringLiteral("small"));
        QVERIFY(cd);
        QCOMPARE(cd->kind, RateLimitTracker::Kind::NoAllowance);
        QCOMPARE(cd->untilMs, T0 + t.policy().noAllowanceCooldownMs);
        QCOMPARE(t.check(mi, QStringLiteral("small"), 0).freesAtMs, 0); // waiting does not help

        const QString o = QStringLiteral("openrouter");
        t.setProvider(o, o, {});
        const auto credits =
            attempt(t, o, QStringLiteral("a"), o, 402, {}, fixture("openrouter-402-credits.json"));
        QVERIFY2(credits.reason.startsWith(QLatin1String("402 payment required (credits exhausted)")),
                 qPrintable(credits.reason));
        QCOMPARE(t.cooldown(o, QStringLiteral("a"))->kind, RateLimitTracker::Kind::Credits);
        QCOMPARE(t.cooldown(o, QStringLiteral("a"))->untilMs, T0 + t.policy().creditsCooldownMs);

        // A busy provider (not our quota): a short cooldown, and nothing learned from it.
        const QString c = QStringLiteral("cerebras");
        t.setProvider(c, c, {});
        attempt(t, c, QStringLiteral("m"), c, 200);
        attempt(t, c, QStringLiteral("m"), c, 429, {}, fixture("cerebras-429-queue.json"));
        QCOMPARE(t.cooldown(c, QStringLiteral("m"))->untilMs, T0 + t.policy().capacityCooldownMs);
        QCOMPARE(t.status().constFirst().model, QStringLiteral("m")); // cerebras sorts first
        QVERIFY(!findWindow(t.status().constFirst(), QStringLiteral("learned")));

        // A refused key refuses every model of the provider.
        attempt(t, QStringLiteral("k"), QStringLiteral("m1"), QStringLiteral("groq"), 401);
        QCOMPARE(t.cooldown(QStringLiteral("k"), QStringLiteral("m2"))->kind,
                 RateLimitTracker::Kind::Misconfigured);
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
        QCOMPARE(st.at(0).status, QStringLiteral("available"));
        QVERIFY(!st.at(0).quota);
        QCOMPARE(st.at(1).status, QStringLiteral("exhausted"));
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

        // Garbage is refused with a warning and changes nothing.
        RateLimitTracker fresh(clock);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("ignoring saved rate-limit state")));
        QVERIFY(!fresh.restoreState("not json"));
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("ignoring saved rate-limit state")));
        QVERIFY(!fresh.restoreState(R"({"version":99,"scopes":[]})"));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("malformed entries ignored")));
        QVERIFY(fresh.restoreState(
            R"({"version":1,"scopes":[42,{"provider":""},{"provider":"x","model":"y","pool":true}]})"));
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
