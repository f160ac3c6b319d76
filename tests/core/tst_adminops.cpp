// ProxyService's admin operations: validated before anything changes, saved atomically, applied live,
// reported in the event log; plus the events the service derives from the limiter and the router.

#include "clock.h"
#include "configloader.h"
#include "proxyservice.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

namespace {

const QByteArray kBaseConfig = "version: 1\n"
                               "settings:\n"
                               "  port: 3429\n"
                               "  apiKeys:\n"
                               "    - \"proxy-key\"\n"
                               "  defaultChain: default\n"
                               "providers:\n"
                               "  - id: groq\n"
                               "    name: Groq\n"
                               "    type: groq\n"
                               "    apiKey: \"gsk-stored\"\n"
                               "  - id: cerebras\n"
                               "    name: Cerebras\n"
                               "    type: cerebras\n"
                               "    apiKey: \"csk-stored\"\n"
                               "  - id: local\n"
                               "    name: Local\n"
                               "    type: generic-openai\n"
                               "    apiKey: \"\"\n"
                               "    baseUrl: \"http://127.0.0.1:9/v1\"\n"
                               "chains:\n"
                               "  - name: default\n"
                               "    entries:\n"
                               "      - { provider: groq, model: llama }\n"
                               "      - { provider: cerebras, model: llama }\n"
                               "  - name: fast\n"
                               "    entries:\n"
                               "      - { provider: groq, model: llama }\n"
                               "  - name: last\n"
                               "    entries:\n"
                               "      - { provider: cerebras, model: qwen }\n";

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

QStringList chainNames(const Config &config)
{
    QStringList names;
    for (const ChainConfig &c : config.chains)
        names << c.name;
    return names;
}

QStringList eventKinds(ProxyService &service)
{
    QStringList kinds;
    for (const EventLog::Event &e : service.events().recent(0, 1000))
        kinds << e.kind;
    return kinds;
}

// A config file in a temporary directory and a service started from it, as main() does.
struct Fixture
{
    QTemporaryDir dir;
    QString path = dir.filePath(QStringLiteral("config.yaml"));
    ManualClock clock;
    std::unique_ptr<ProxyService> service;

    // `running` edits the loaded config before the service gets it (as PORT/--port overrides do).
    bool start(const QByteArray &yaml = kBaseConfig, const std::function<void(Config &)> &running = {})
    {
        if (!writeAll(path, yaml))
            return false;
        const ConfigLoadResult loaded = ConfigLoader::loadFile(path);
        if (!loaded.ok()) {
            qWarning("%s", qPrintable(loaded.errors.join(QLatin1Char('\n'))));
            return false;
        }
        Config config = *loaded.config;
        if (running)
            running(config);
        service = std::make_unique<ProxyService>(config, clock);
        return true;
    }

    Config onDisk() const { return *ConfigLoader::loadFile(path).config; }
};

ChainConfig chainOf(const QString &name, const QList<QPair<QString, QString>> &entries)
{
    ChainConfig chain;
    chain.name = name;
    for (const auto &[provider, model] : entries)
        chain.entries.append({provider, model, 0, std::nullopt});
    return chain;
}

// Collects what the router answered; owned by the request it is given to.
} // namespace

class TestAdminOps : public QObject
{
    Q_OBJECT

private slots:
    void upsertProviderAddsSavesAndApplies()
    {
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy changed(f.service.get(), &ProxyService::configChanged);
        ProviderConfig mistral;
        mistral.id = QStringLiteral("mistral");
        mistral.name = QStringLiteral("Mistral");
        mistral.type = QStringLiteral("openai");
        mistral.apiKey = QStringLiteral("m-key");
        mistral.baseUrl = QStringLiteral("https://api.mistral.ai/v1");
        mistral.rateLimits.requestsPerMinute = 60;
        const AdminResult result = f.service->upsertProvider(mistral, true);
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(result.status, 200);
        QVERIFY(result.message.contains(QLatin1String("mistral")));
        QCOMPARE(changed.size(), 1);

        QVERIFY(f.service->config()->provider(QStringLiteral("mistral")));
        const Config disk = f.onDisk();
        QVERIFY(disk.provider(QStringLiteral("mistral")));
        QCOMPARE(disk.provider(QStringLiteral("mistral"))->apiKey, QStringLiteral("m-key"));
        QCOMPARE(disk.provider(QStringLiteral("mistral"))->rateLimits.requestsPerMinute.value_or(0), 60);
        QCOMPARE(disk.providers.size(), 4);
        QCOMPARE(readAll(f.path + QLatin1String(".bak")), kBaseConfig);
        // The service knows its own write: the watcher will not take it for an edit.
        QCOMPARE(f.service->configFileHash(),
                 QCryptographicHash::hash(readAll(f.path), QCryptographicHash::Sha256));

        const QList<EventLog::Event> events = f.service->events().recent();
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.first().kind, QStringLiteral("config_changed"));
        QCOMPARE(events.first().level, QStringLiteral("info"));
        QVERIFY(!events.first().message.contains(QLatin1String("m-key")));

        // Replacing keeps the provider's place.
        mistral.name = QStringLiteral("Mistral AI");
        QVERIFY(f.service->upsertProvider(mistral, true).ok());
        QCOMPARE(f.onDisk().providers.at(3).name, QStringLiteral("Mistral AI"));
        QCOMPARE(f.service->config()->providers.size(), 4);
    }

    void upsertProviderKeepsTheStoredKey()
    {
        Fixture f;
        QVERIFY(f.start());
        ProviderConfig groq = *f.service->config()->provider(QStringLiteral("groq"));
        groq.apiKey.clear();
        groq.name = QStringLiteral("Groq (renamed)");
        groq.timeoutMs = 5000;
        QVERIFY(f.service->upsertProvider(groq, true).ok());
        QCOMPARE(f.service->config()->provider(QStringLiteral("groq"))->apiKey, QStringLiteral("gsk-stored"));
        QCOMPARE(f.onDisk().provider(QStringLiteral("groq"))->apiKey, QStringLiteral("gsk-stored"));
        QCOMPARE(f.onDisk().provider(QStringLiteral("groq"))->name, QStringLiteral("Groq (renamed)"));

        // A new key replaces it; without keepExistingKey an empty key is what the caller meant.
        groq.apiKey = QStringLiteral("gsk-new");
        QVERIFY(f.service->upsertProvider(groq, true).ok());
        QCOMPARE(f.onDisk().provider(QStringLiteral("groq"))->apiKey, QStringLiteral("gsk-new"));
        groq.apiKey.clear();
        QVERIFY(f.service->upsertProvider(groq, false).ok());
        QCOMPARE(f.onDisk().provider(QStringLiteral("groq"))->apiKey, QString());
    }

    void aFixedKeyEndsTheProvidersCooldown()
    {
        Fixture f;
        QVERIFY(f.start());
        ProviderConfig groq = *f.service->config()->provider(QStringLiteral("groq"));
        const QString model = f.service->config()->chains.first().entries.first().model;
        RateLimitTracker &tracker = f.service->tracker();
        tracker.markCooldown(QStringLiteral("groq"), model, 3'600'000, RateLimitTracker::Kind::Misconfigured,
                             QStringLiteral("401"));
        QVERIFY(tracker.cooldown(QStringLiteral("groq"), model));
        // A change that does not touch the connection keeps what the tracker knows.
        groq.apiKey.clear();
        groq.name = QStringLiteral("Groq!");
        QVERIFY(f.service->upsertProvider(groq, true).ok());
        QVERIFY(tracker.cooldown(QStringLiteral("groq"), model));
        // A new key starts over.
        groq.apiKey = QStringLiteral("gsk-fixed");
        QVERIFY(f.service->upsertProvider(groq, true).ok());
        QVERIFY(!tracker.cooldown(QStringLiteral("groq"), model));
    }

    void upsertProviderRejectsInvalid_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad url") << "baseUrl"
                                 << "not a url"
                                 << "providers[0].baseUrl: \"not a url\" is not a valid http(s) URL";
        QTest::newRow("ftp url") << "baseUrl"
                                 << "ftp://example.com/v1"
                                 << "is not a valid http(s) URL";
        QTest::newRow("unknown type") << "type"
                                      << "acme"
                                      << "providers[0].type: unknown provider type \"acme\"";
        QTest::newRow("generic without url") << "type"
                                             << "generic-openai"
                                             << "providers[0].baseUrl: is required for type";
        QTest::newRow("short timeout") << "timeout"
                                       << "10"
                                       << "providers[0].timeout: must be at least 1000 (got 10)";
        QTest::newRow("empty name") << "name"
                                    << ""
                                    << "providers[0].name: is required";
        QTest::newRow("empty id") << "id"
                                  << ""
                                  << "providers[3].id: is required";
        QTest::newRow("bad header") << "header"
                                    << "Bad Header"
                                    << "is not a valid HTTP header name";
        QTest::newRow("zero rpm") << "rpm"
                                  << "0"
                                  << "providers[0].rateLimits.requestsPerMinute: must be a positive integer";
    }

    void upsertProviderRejectsInvalid()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy changed(f.service.get(), &ProxyService::configChanged);
        const auto before = f.service->config();
        ProviderConfig p = *before->provider(QStringLiteral("groq"));
        if (field == QLatin1String("baseUrl"))
            p.baseUrl = value;
        else if (field == QLatin1String("type"))
            p.type = value;
        else if (field == QLatin1String("timeout"))
            p.timeoutMs = value.toLongLong();
        else if (field == QLatin1String("name"))
            p.name = value;
        else if (field == QLatin1String("id"))
            p.id = value;
        else if (field == QLatin1String("header"))
            p.headers.append({value.toUtf8(), QByteArrayLiteral("x")});
        else if (field == QLatin1String("rpm"))
            p.rateLimits.requestsPerMinute = value.toInt();
        const AdminResult result = f.service->upsertProvider(p, true);
        QCOMPARE(result.status, 400);
        QVERIFY2(result.error.contains(expected), qPrintable(result.error));
        QVERIFY(!result.error.contains(f.path)); // about the request, not the file's lines
        // Nothing changed anywhere.
        QCOMPARE(f.service->config(), before);
        QCOMPARE(readAll(f.path), kBaseConfig);
        QVERIFY(!QFile::exists(f.path + QLatin1String(".bak")));
        QCOMPARE(changed.size(), 0);
        QVERIFY(f.service->events().recent().isEmpty());
    }

    void deleteProvider()
    {
        Fixture f;
        QVERIFY(f.start());
        AdminResult result = f.service->deleteProvider(QStringLiteral("nope"));
        QCOMPARE(result.status, 404);
        QCOMPARE(result.error, QStringLiteral("Provider not found"));
        result = f.service->deleteProvider(QStringLiteral("groq"));
        QCOMPARE(result.status, 409);
        QCOMPARE(result.error, QStringLiteral("Provider is referenced by chains: default, fast"));
        result = f.service->deleteProvider(QStringLiteral("cerebras"));
        QCOMPARE(result.status, 409);
        QCOMPARE(result.error, QStringLiteral("Provider is referenced by chains: default, last"));
        QCOMPARE(readAll(f.path), kBaseConfig);
        QVERIFY(f.service->events().recent().isEmpty());

        result = f.service->deleteProvider(QStringLiteral("local"));
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY(!f.service->config()->provider(QStringLiteral("local")));
        QVERIFY(!f.onDisk().provider(QStringLiteral("local")));
        QCOMPARE(eventKinds(*f.service), QStringList{QStringLiteral("config_changed")});
    }

    void upsertChainRoutesAtOnce()
    {
        Fixture f;
        QVERIFY(f.start());
        const auto before = f.service->config();
        const AdminResult result = f.service->upsertChain(
            chainOf(QStringLiteral("smart"), {{QStringLiteral("cerebras"), QStringLiteral("big")},
                                              {QStringLiteral("groq"), QStringLiteral("llama")}}));
        QVERIFY2(result.ok(), qPrintable(result.error));
        const ChainConfig *smart = f.service->config()->chain(QStringLiteral("smart"));
        QVERIFY(smart);
        QCOMPARE(smart->entries.size(), 2);
        QCOMPARE(smart->entries.at(0).model, QStringLiteral("big"));
        QCOMPARE(f.service->config()->chainForModel(QStringLiteral("smart"))->name, QStringLiteral("smart"));
        QVERIFY(f.onDisk().chain(QStringLiteral("smart")));
        // In-flight requests keep the config they started with.
        QVERIFY(!before->chain(QStringLiteral("smart")));

        // Replacing a chain keeps its place.
        QVERIFY(f.service
                    ->upsertChain(
                        chainOf(QStringLiteral("fast"), {{QStringLiteral("cerebras"), QStringLiteral("x")}}))
                    .ok());
        QCOMPARE(chainNames(f.onDisk()), (QStringList{QStringLiteral("default"), QStringLiteral("fast"),
                                                      QStringLiteral("last"), QStringLiteral("smart")}));
        QCOMPARE(f.service->config()->chain(QStringLiteral("fast"))->entries.first().provider,
                 QStringLiteral("cerebras"));
    }

    void upsertChainRejectsInvalid()
    {
        Fixture f;
        QVERIFY(f.start());
        AdminResult result = f.service->upsertChain(
            chainOf(QStringLiteral("x"), {{QStringLiteral("nope"), QStringLiteral("m")},
                                          {QStringLiteral("groq"), QStringLiteral("m")},
                                          {QStringLiteral("other"), QStringLiteral("m")},
                                          {QStringLiteral("nope"), QStringLiteral("n")}}));
        QCOMPARE(result.status, 400);
        QCOMPARE(result.error, QStringLiteral("Chain references non-existent providers: nope, other"));
        result = f.service->upsertChain(chainOf(QStringLiteral("empty"), {}));
        QCOMPARE(result.status, 400);
        QVERIFY2(result.error.contains(QLatin1String("at least one entry is required")),
                 qPrintable(result.error));
        result = f.service->upsertChain(chainOf(QString(), {{QStringLiteral("groq"), QStringLiteral("m")}}));
        QCOMPARE(result.status, 400);
        QVERIFY2(result.error.contains(QLatin1String(".name: is required")), qPrintable(result.error));
        result = f.service->upsertChain(chainOf(QStringLiteral("x"), {{QStringLiteral("groq"), QString()}}));
        QCOMPARE(result.status, 400);
        QVERIFY2(result.error.contains(QLatin1String(".model: is required")), qPrintable(result.error));
        QCOMPARE(readAll(f.path), kBaseConfig);
        QVERIFY(!f.service->config()->chain(QStringLiteral("x")));
        QVERIFY(f.service->events().recent().isEmpty());
    }

    void deleteChain()
    {
        Fixture f;
        QVERIFY(f.start());
        AdminResult result = f.service->deleteChain(QStringLiteral("nope"));
        QCOMPARE(result.status, 404);
        QCOMPARE(result.error, QStringLiteral("Chain not found"));
        result = f.service->deleteChain(QStringLiteral("default"));
        QCOMPARE(result.status, 409);
        QCOMPARE(result.error, QStringLiteral("Cannot delete default chain"));
        QCOMPARE(readAll(f.path), kBaseConfig);

        result = f.service->deleteChain(QStringLiteral("fast"));
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY(!f.service->config()->chain(QStringLiteral("fast")));
        QCOMPARE(chainNames(f.onDisk()), (QStringList{QStringLiteral("default"), QStringLiteral("last")}));
        // The provider only that chain used... groq is still in default, so still refused.
        QCOMPARE(f.service->deleteProvider(QStringLiteral("groq")).error,
                 QStringLiteral("Provider is referenced by chains: default"));
    }

    void renameChain()
    {
        Fixture f;
        QVERIFY(f.start());
        QCOMPARE(f.service->renameChain(QStringLiteral("nope"), QStringLiteral("x")).status, 404);
        AdminResult result = f.service->renameChain(QStringLiteral("fast"), QStringLiteral("last"));
        QCOMPARE(result.status, 409);
        QVERIFY(result.error.contains(QLatin1String("already exists")));
        QCOMPARE(f.service->renameChain(QStringLiteral("fast"), QStringLiteral("  ")).status, 400);
        QCOMPARE(readAll(f.path), kBaseConfig);
        result = f.service->renameChain(QStringLiteral("fast"), QStringLiteral("fast"));
        QVERIFY(result.ok());
        QCOMPARE(readAll(f.path), kBaseConfig); // nothing to do, nothing written

        result = f.service->renameChain(QStringLiteral("default"), QStringLiteral("main"));
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(f.service->config()->settings.defaultChain, QStringLiteral("main"));
        QCOMPARE(chainNames(*f.service->config()),
                 (QStringList{QStringLiteral("main"), QStringLiteral("fast"), QStringLiteral("last")}));
        const Config disk = f.onDisk();
        QCOMPARE(disk.settings.defaultChain, QStringLiteral("main"));
        QCOMPARE(chainNames(disk), chainNames(*f.service->config()));
        QCOMPARE(disk.chain(QStringLiteral("main"))->entries.size(), 2);
        // A request for an unknown model now lands on the renamed default.
        QCOMPARE(f.service->config()->chainForModel(QStringLiteral("default"))->name, QStringLiteral("main"));

        QVERIFY(f.service->renameChain(QStringLiteral("fast"), QStringLiteral("quick")).ok());
        QCOMPARE(f.onDisk().settings.defaultChain, QStringLiteral("main"));
    }

    void updateSettings()
    {
        Fixture f;
        QVERIFY(f.start());
        Settings s = f.service->fileConfig()->settings;
        s.cooldownDefaultMs = 90'000;
        s.queueMode = true;
        s.apiKeys << QStringLiteral("second-key");
        AdminResult result = f.service->updateSettings(s);
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY(!result.message.contains(QLatin1String("restart")));
        QCOMPARE(f.service->config()->settings.cooldownDefaultMs, 90'000);
        QCOMPARE(f.service->config()->settings.apiKeys.size(), 2); // new keys work at once
        QCOMPARE(f.onDisk().settings.cooldownDefaultMs, 90'000);
        QVERIFY(f.onDisk().settings.queueMode);

        // Port and host cannot move while listening: saved, reported, not applied.
        s.port = 4000;
        s.host = QStringLiteral("0.0.0.0");
        result = f.service->updateSettings(s);
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY2(result.message.contains(
                     QLatin1String("settings.port, settings.host take effect after a restart")),
                 qPrintable(result.message));
        QCOMPARE(f.service->config()->settings.port, 3429);
        QCOMPARE(f.service->config()->settings.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(f.service->fileConfig()->settings.port, 4000);
        QCOMPARE(f.onDisk().settings.port, 4000);
        QCOMPARE(f.onDisk().settings.host, QStringLiteral("0.0.0.0"));
        QVERIFY(f.service->events().recent().last().message.contains(QLatin1String("after a restart")));
    }

    void updateSettingsRejectsInvalid_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected");
        QTest::newRow("cooldown") << 0 << "settings.cooldownDefaultMs: must be at least 1000 (got 10)";
        QTest::newRow("default chain") << 1 << "settings.defaultChain: \"nope\" is not the name of a chain";
        QTest::newRow("no keys") << 2 << "settings.apiKeys: at least one API key is required";
        QTest::newRow("port") << 3 << "settings.port: must be between 1 and 65535 (got 70000)";
        QTest::newRow("host") << 4 << "settings.host: \"example.com\" is not an IP address";
        QTest::newRow("cors") << 5 << "settings.corsOrigins[0]: \"ftp://x\" is neither";
        QTest::newRow("log level") << 6 << "settings.logLevel: \"loud\" is not one of";
    }

    void updateSettingsRejectsInvalid()
    {
        QFETCH(int, which);
        QFETCH(QString, expected);
        Fixture f;
        QVERIFY(f.start());
        Settings s = f.service->fileConfig()->settings;
        switch (which) {
        case 0:
            s.cooldownDefaultMs = 10;
            break;
        case 1:
            s.defaultChain = QStringLiteral("nope");
            break;
        case 2:
            s.apiKeys.clear();
            break;
        case 3:
            s.port = 70000;
            break;
        case 4:
            s.host = QStringLiteral("example.com");
            break;
        case 5:
            s.corsOrigins = {QStringLiteral("ftp://x")};
            break;
        case 6:
            s.logLevel = QStringLiteral("loud");
            break;
        }
        const AdminResult result = f.service->updateSettings(s);
        QCOMPARE(result.status, 400);
        QVERIFY2(result.error.contains(expected), qPrintable(result.error));
        QCOMPARE(readAll(f.path), kBaseConfig);
        QCOMPARE(f.service->config()->settings.cooldownDefaultMs, 60'000);
    }

    void overridesAreNotWrittenBack()
    {
        // Started as with PORT=0 HOST=0.0.0.0 LOG_LEVEL=debug: the file keeps its own values.
        Fixture f;
        QVERIFY(f.start(kBaseConfig, [](Config &c) {
            c.settings.port = 0;
            c.settings.host = QStringLiteral("0.0.0.0");
            c.settings.logLevel = QStringLiteral("debug");
        }));
        QCOMPARE(f.service->fileConfig()->settings.port, 3429);
        QVERIFY(
            f.service
                ->upsertChain(chainOf(QStringLiteral("n"), {{QStringLiteral("groq"), QStringLiteral("m")}}))
                .ok());
        QCOMPARE(f.onDisk().settings.port, 3429);
        QCOMPARE(f.onDisk().settings.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(f.onDisk().settings.logLevel, QStringLiteral("info"));
        QCOMPARE(f.service->config()->settings.port, 0);

        // A settings form filled from the running config echoes the overrides: they still stay out of the
        // file.
        Settings s = f.service->config()->settings;
        s.requestTimeoutMs = 20'000;
        const AdminResult result = f.service->updateSettings(s);
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY(!result.message.contains(QLatin1String("restart")));
        QCOMPARE(f.onDisk().settings.port, 3429);
        QCOMPARE(f.onDisk().settings.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(f.onDisk().settings.requestTimeoutMs, 20'000);
        QCOMPARE(f.service->config()->settings.port, 0);
        QCOMPARE(f.service->config()->settings.host, QStringLiteral("0.0.0.0"));
    }

    void withoutAFileChangesApplyLive()
    {
        ManualClock clock;
        ConfigLoadResult loaded = ConfigLoader::loadString(kBaseConfig, QStringLiteral("memory"));
        QVERIFY(loaded.ok());
        loaded.config->settings.port = 0; // --demo --port 0
        ProxyService service(*loaded.config, clock);
        const AdminResult result = service.upsertChain(
            chainOf(QStringLiteral("n"), {{QStringLiteral("groq"), QStringLiteral("m")}}));
        QVERIFY2(result.ok(), qPrintable(result.error));
        QVERIFY(result.message.contains(QLatin1String("not saved")));
        QVERIFY(service.config()->chain(QStringLiteral("n")));
        QCOMPARE(service.reloadFromDisk().status, 409);
    }

    void writeFailureChangesNothing()
    {
        Fixture f;
        QVERIFY(f.start());
        // The backup cannot be written (a directory is in its place), so the save fails before the config is
        // touched.
        QVERIFY(QDir().mkpath(f.path + QLatin1String(".bak")));
        QSignalSpy changed(f.service.get(), &ProxyService::configChanged);
        const auto before = f.service->config();
        const AdminResult result = f.service->upsertChain(
            chainOf(QStringLiteral("n"), {{QStringLiteral("groq"), QStringLiteral("m")}}));
        QCOMPARE(result.status, 500);
        QVERIFY2(result.error.startsWith(QLatin1String("Failed to persist config: ")),
                 qPrintable(result.error));
        QCOMPARE(f.service->config(), before);
        QVERIFY(!f.service->config()->chain(QStringLiteral("n")));
        QCOMPARE(readAll(f.path), kBaseConfig);
        QCOMPARE(changed.size(), 0);
        QVERIFY(f.service->events().recent().isEmpty());
    }

    void reloadFromDisk()
    {
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy changed(f.service.get(), &ProxyService::configChanged);
        QByteArray edited = kBaseConfig;
        edited.replace("  - name: last\n",
                       "  - name: added\n    entries:\n      - { provider: local, model: m }\n"
                       "  - name: last\n");
        QVERIFY(writeAll(f.path, edited));
        AdminResult result = f.service->reloadFromDisk();
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(changed.size(), 1);
        QVERIFY(f.service->config()->chain(QStringLiteral("added")));
        QCOMPARE(f.service->configFileHash(), QCryptographicHash::hash(edited, QCryptographicHash::Sha256));
        QCOMPARE(eventKinds(*f.service), QStringList{QStringLiteral("config_reloaded")});

        // A bad edit: the running config stays, the reason names the line.
        const auto running = f.service->config();
        QByteArray bad = edited;
        bad.replace("defaultChain: default", "defaultChain: missing");
        QVERIFY(writeAll(f.path, bad));
        result = f.service->reloadFromDisk();
        QCOMPARE(result.status, 400);
        QVERIFY2(
            result.error.contains(
                f.path + QLatin1String(":6: settings.defaultChain: \"missing\" is not the name of a chain")),
            qPrintable(result.error));
        QCOMPARE(f.service->config(), running);
        QCOMPARE(changed.size(), 1);
        const EventLog::Event rejected = f.service->events().recent().last();
        QCOMPARE(rejected.kind, QStringLiteral("config_rejected"));
        QCOMPARE(rejected.level, QStringLiteral("error"));
        QVERIFY(rejected.message.contains(QLatin1String("is not the name of a chain")));

        QVERIFY(QFile::remove(f.path));
        result = f.service->reloadFromDisk();
        QCOMPARE(result.status, 400);
        QVERIFY(result.error.contains(QLatin1String("not found")));
        QCOMPARE(f.service->config(), running);
    }
};

QTEST_GUILESS_MAIN(TestAdminOps)
#include "tst_adminops.moc"
