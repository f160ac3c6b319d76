// The events ProxyService derives from the limiter and the router: cooldowns that start and end, chains that
// run dry (one event a minute, however many requests) and come back.

#include "clock.h"
#include "configloader.h"
#include "enginesink.h"
#include "proxyservice.h"
#include "simulatedprovider.h"

#include <QDateTime>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QtTest>

#include <memory>

namespace {

const QByteArray kBaseConfig = "version: 1\n"
                               "settings:\n"
                               "  apiKeys:\n"
                               "    - \"proxy-key\"\n"
                               "  defaultChain: default\n"
                               "providers:\n"
                               "  - id: groq\n"
                               "    name: Groq\n"
                               "    type: groq\n"
                               "    apiKey: \"gsk-stored\"\n"
                               "  - id: local\n"
                               "    name: Local\n"
                               "    type: generic-openai\n"
                               "    apiKey: \"\"\n"
                               "    baseUrl: \"http://127.0.0.1:9/v1\"\n"
                               "chains:\n"
                               "  - name: default\n"
                               "    entries:\n"
                               "      - { provider: groq, model: llama }\n";

QStringList eventKinds(ProxyService &service)
{
    QStringList kinds;
    for (const EventLog::Event &e : service.events().recent(0, 1000))
        kinds << e.kind;
    return kinds;
}

// A service started from a config file, on a manual clock.
struct Fixture
{
    QTemporaryDir dir;
    QString path = dir.filePath(QStringLiteral("config.yaml"));
    ManualClock clock;
    std::unique_ptr<ProxyService> service;

    bool start(const QByteArray &yaml = kBaseConfig)
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(yaml) != yaml.size())
            return false;
        file.close();
        const ConfigLoadResult loaded = ConfigLoader::loadFile(path);
        if (!loaded.ok())
            return false;
        service = std::make_unique<ProxyService>(*loaded.config, clock);
        return true;
    }
};

class FakeSink : public EngineSink
{
public:
    struct Answer
    {
        int status = 0;
        QByteArray body;
    };

    explicit FakeSink(std::shared_ptr<Answer> answer) : m_answer(std::move(answer)) {}

    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return 0; }
    void whole(const WholeAnswer &answer) override
    {
        m_answer->status = 200;
        m_answer->body = answer.body;
    }
    void begin(const ServedBy &) override {}
    void chunk(const StreamPiece &) override {}
    void done() override {}
    void fail(const EngineFailure &failure) override
    {
        m_answer->status = failure.error.status;
        m_answer->body = failure.error.message.toUtf8();
    }

private:
    std::shared_ptr<Answer> m_answer;
};

std::shared_ptr<FakeSink::Answer> chat(ProxyService &service, const QString &model)
{
    const QJsonObject body{{QStringLiteral("model"), model},
                           {QStringLiteral("messages"),
                            QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                   {QStringLiteral("content"), QStringLiteral("Hi")}}}}};
    auto answer = std::make_shared<FakeSink::Answer>();
    service.startRequest(EngineRequest::chat(body), new FakeSink(answer));
    return answer;
}

} // namespace

class TestProxyEvents : public QObject
{
    Q_OBJECT

private slots:
    void cooldownEventsComeAndGo()
    {
        Fixture f;
        QVERIFY(f.start());
        f.clock.set(QDateTime(QDate(2026, 3, 1), QTime(14, 2, 5), QTimeZone::utc()).toMSecsSinceEpoch());
        RateLimitTracker &tracker = f.service->tracker();
        tracker.markCooldown(QStringLiteral("groq"), QStringLiteral("llama"), 60'000,
                             RateLimitTracker::Kind::RateLimited,
                             QStringLiteral("429 rate limited: slow down"));
        EventLog::Event e = f.service->events().recent().last();
        QCOMPARE(e.kind, QStringLiteral("cooldown"));
        QCOMPARE(e.level, QStringLiteral("warn"));
        QCOMPARE(e.provider, QStringLiteral("groq"));
        QCOMPARE(e.model, QStringLiteral("llama"));
        QCOMPARE(e.untilMs, f.clock.nowMs() + 60'000);
        QCOMPARE(e.message,
                 QStringLiteral("groq/llama cooling down until 14:03:05 UTC: 429 rate limited: slow down"));
        QCOMPARE(tracker.snapshot().size(), 1);
        QVERIFY(tracker.snapshot().first().cooldown);

        QSignalSpy ended(&tracker, &RateLimitTracker::cooldownEnded);
        f.clock.advance(59'999);
        tracker.sweep();
        QCOMPARE(ended.size(), 0);
        f.clock.advance(1);
        tracker.sweep();
        QCOMPARE(ended.size(), 1);
        tracker.sweep();
        QCOMPARE(ended.size(), 1); // once
        e = f.service->events().recent().last();
        QCOMPARE(e.kind, QStringLiteral("recovered"));
        QCOMPARE(e.message, QStringLiteral("groq/llama is available again"));
        QCOMPARE(tracker.snapshot().size(), 1);
        QVERIFY(!tracker.snapshot().first().cooldown);

        // The router's lookup notices an end before the sweep does; either way it is reported once.
        tracker.markCooldown(QStringLiteral("groq"), QStringLiteral("m2"), 1'000,
                             RateLimitTracker::Kind::Failing, QStringLiteral("500"));
        f.clock.advance(1'000);
        QVERIFY(!tracker.cooldown(QStringLiteral("groq"), QStringLiteral("m2")));
        tracker.sweep();
        QCOMPARE(ended.size(), 2);
        // clear() ends every active cooldown.
        tracker.markCooldown(QStringLiteral("groq"), QStringLiteral("m3"), 1'000,
                             RateLimitTracker::Kind::Failing, QStringLiteral("500"));
        tracker.clear();
        QCOMPARE(ended.size(), 3);
        QCOMPARE(ended.last().at(1).toString(), QStringLiteral("m3"));
        QVERIFY(tracker.snapshot().isEmpty());

        // A cooldown that lasts past midnight says which day.
        tracker.markCooldown(QStringLiteral("groq"), QStringLiteral("llama"), 24 * 3600 * 1000,
                             RateLimitTracker::Kind::RateLimited, QStringLiteral("daily cap"));
        QVERIFY2(f.service->events().recent().last().message.contains(
                     QLatin1String("until 2026-03-02 14:03:06 UTC")),
                 qPrintable(f.service->events().recent().last().message));
    }

    void chainExhaustedOncePerMinuteAndRecovery()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        Fixture f;
        QByteArray yaml = kBaseConfig;
        yaml.replace("http://127.0.0.1:9/v1", sim.baseUrl().toUtf8());
        yaml += "  - name: solo\n    entries:\n      - { provider: local, model: m }\n";
        QVERIFY(f.start(yaml));
        sim.setClock(&f.clock);
        QSignalSpy exhausted(f.service.get(), &ProxyService::chainExhausted);
        QSignalSpy recovered(f.service.get(), &ProxyService::chainRecovered);
        f.service->tracker().markCooldown(QStringLiteral("local"), QStringLiteral("m"), 3'600'000,
                                          RateLimitTracker::Kind::RateLimited, QStringLiteral("429"));

        const auto first = chat(*f.service, QStringLiteral("solo"));
        const auto second = chat(*f.service, QStringLiteral("solo"));
        QVERIFY(first && second);
        QCOMPARE(first->status, 429);
        QCOMPARE(second->status, 429);
        QCOMPARE(exhausted.size(), 2);
        QCOMPARE(exhausted.first().at(0).toString(), QStringLiteral("solo"));
        QCOMPARE(exhausted.first().at(1).toLongLong(), 3600);
        QCOMPARE(eventKinds(*f.service).count(QStringLiteral("chain_exhausted")), 1);
        const EventLog::Event e = f.service->events().recent().last();
        QCOMPARE(e.chain, QStringLiteral("solo"));
        QCOMPARE(e.level, QStringLiteral("error"));
        QCOMPARE(e.untilMs, f.clock.nowMs() + 3'600'000);

        f.clock.advance(61'000);
        QVERIFY(chat(*f.service, QStringLiteral("solo")));
        QCOMPARE(eventKinds(*f.service).count(QStringLiteral("chain_exhausted")), 2);

        // Served again: one recovered event for the chain.
        f.service->tracker().clear();
        const auto served = chat(*f.service, QStringLiteral("solo"));
        QTRY_COMPARE_WITH_TIMEOUT(served->status, 200, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(recovered.size(), 1, 10'000);
        const EventLog::Event back = f.service->events().recent().last();
        QCOMPARE(back.kind, QStringLiteral("recovered"));
        QCOMPARE(back.chain, QStringLiteral("solo"));
        QVERIFY(back.provider.isEmpty());
        const auto again = chat(*f.service, QStringLiteral("solo"));
        QTRY_COMPARE_WITH_TIMEOUT(again->status, 200, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(f.service->activeRequests(), 0, 10'000);
        QCOMPARE(recovered.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestProxyEvents)
#include "tst_proxyevents.moc"
