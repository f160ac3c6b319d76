#include "configkeys.h"
#include "configloader.h"
#include "envexpander.h"
#include "providerkind.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <initializer_list>
#include <utility>

// ConfigLoader: the reference fixture and our example load as they are; every rule reports its key and line.

namespace {

const QString kSource = QStringLiteral("test.yaml");

// A valid config; the error cases replace single lines of it, so the numbers below stay right.
const QStringList kBaseLines = {
    QStringLiteral("version: 1"),                                //  1
    QStringLiteral("settings:"),                                 //  2
    QStringLiteral("  port: 3429"),                              //  3
    QStringLiteral("  apiKeys:"),                                //  4
    QStringLiteral("    - \"key-1\""),                           //  5
    QStringLiteral("  defaultChain: default"),                   //  6
    QStringLiteral("  logLevel: info"),                          //  7
    QStringLiteral("providers:"),                                //  8
    QStringLiteral("  - id: groq"),                              //  9
    QStringLiteral("    name: Groq"),                            // 10
    QStringLiteral("    type: groq"),                            // 11
    QStringLiteral("    apiKey: \"gsk\""),                       // 12
    QStringLiteral("    timeout: 10000"),                        // 13
    QStringLiteral("  - id: local"),                             // 14
    QStringLiteral("    name: Local"),                           // 15
    QStringLiteral("    type: generic-openai"),                  // 16
    QStringLiteral("    apiKey: \"\""),                          // 17
    QStringLiteral("    baseUrl: \"http://127.0.0.1:8080/v1\""), // 18
    QStringLiteral("chains:"),                                   // 19
    QStringLiteral("  - name: default"),                         // 20
    QStringLiteral("    entries:"),                              // 21
    QStringLiteral("      - provider: groq"),                    // 22
    QStringLiteral("        model: llama"),                      // 23
    QStringLiteral("      - provider: local"),                   // 24
    QStringLiteral("        model: qwen"),                       // 25
    QStringLiteral("  - name: fast"),                            // 26
    QStringLiteral("    entries:"),                              // 27
    QStringLiteral("      - { provider: groq, model: llama }"),  // 28
};

QByteArray edit(std::initializer_list<std::pair<int, const char *>> replacements)
{
    QStringList lines = kBaseLines;
    for (const auto &[line, text] : replacements)
        lines[line - 1] = QString::fromUtf8(text);
    return lines.join(QLatin1Char('\n')).toUtf8() + '\n';
}

ConfigLoader::EnvLookup envOf(const QStringList &assignments)
{
    return [assignments](const QString &name) -> std::optional<QString> {
        for (const QString &assignment : assignments) {
            if (assignment.section(QLatin1Char('='), 0, 0) == name)
                return assignment.section(QLatin1Char('='), 1);
        }
        return std::nullopt;
    };
}

// Some message is at "test.yaml:<line>:" and names <path>.
bool hasMessage(const QStringList &messages, const QString &path, int line,
                const QString &fragment = QString())
{
    const QString prefix = kSource + QLatin1Char(':') + QString::number(line) + QLatin1Char(':');
    for (const QString &message : messages) {
        if (message.startsWith(prefix) && message.contains(QLatin1Char(' ') + path + QLatin1String(": ")) &&
            message.contains(fragment))
            return true;
    }
    return false;
}

QString dataFile(const char *name)
{
    return QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/") + QLatin1String(name);
}

} // namespace

class TestConfigLoader : public QObject
{
    Q_OBJECT

private slots:
    void baseConfigIsValid();
    void referenceFixtureLoads();
    void referenceFixtureProviders_data();
    void referenceFixtureProviders();
    void exampleConfigLoadsCleanly();
    void additionsAreRead();
    void acceptedValues_data();
    void acceptedValues();
    void errorNamesKeyAndLine_data();
    void errorNamesKeyAndLine();
    void collectsAllErrors();
    void structuralErrors_data();
    void structuralErrors();
    void envExpansion_data();
    void envExpansion();
    void missingEnvVariableIsAnError();
    void unknownKeysWarn_data();
    void unknownKeysWarn();
    void yamlSyntaxErrorHasLine();
    void missingFile();
    void loadFileSetsSourcePath();
    void validateBuiltConfig();
};

void TestConfigLoader::baseConfigIsValid()
{
    const ConfigLoadResult result = ConfigLoader::loadString(edit({}), kSource, envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QVERIFY(result.warnings.isEmpty());
    QCOMPARE(result.config->keyLines.value(QStringLiteral("settings.defaultChain")), 6);
    QCOMPARE(result.config->providers.at(1).line, 14);
    QCOMPARE(result.config->chains.at(1).line, 26);
    QCOMPARE(result.config->chains.at(0).entries.at(1).line, 24);
}

void TestConfigLoader::referenceFixtureLoads()
{
    const ConfigLoadResult result =
        ConfigLoader::loadFile(dataFile("reference-config.example.yaml"), envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QVERIFY2(result.warnings.isEmpty(), qPrintable(result.warnings.join(QLatin1Char('\n'))));
    const Config &c = *result.config;
    QCOMPARE(c.version, 1);
    QCOMPARE(c.settings.port, 3429);
    QCOMPARE(c.settings.apiKeys, QStringList{QStringLiteral("your-proxy-api-key-here")});
    QCOMPARE(c.settings.defaultChain, QStringLiteral("default"));
    QCOMPARE(c.settings.logLevel, QStringLiteral("info"));
    QCOMPARE(c.settings.cooldownDefaultMs, 60000);
    QCOMPARE(c.settings.requestTimeoutMs, 30000);
    QCOMPARE(c.settings.normalizeResponses, false);
    // Not in the file: the reference defaults apply.
    QCOMPARE(c.settings.streamIdleTimeoutMs, 30000);
    QCOMPARE(c.settings.dbPath, QStringLiteral("./data/observability.db"));
    QCOMPARE(c.settings.midStreamFailureThreshold, 3);
    QCOMPARE(c.settings.midStreamCooldownMs, 120000);
    QCOMPARE(c.settings.midStreamCooldownMaxMs, 1800000);
    QCOMPARE(c.settings.queueMode, false);
    QCOMPARE(c.settings.queueMaxWaitMs, 300000);
    QCOMPARE(c.settings.queueMaxSize, 100);
    QCOMPARE(c.settings.host, QStringLiteral("127.0.0.1"));
    QVERIFY(c.settings.adminKeys.isEmpty());

    const ProviderConfig *groq = c.provider(QStringLiteral("groq"));
    QVERIFY(groq);
    QCOMPARE(groq->rateLimits.requestsPerMinute, std::optional<int>(30));
    QCOMPARE(groq->rateLimits.tokensPerMinute, std::optional<int>(15000));
    QVERIFY(!groq->rateLimits.requestsPerDay);
    QVERIFY(!groq->rateLimits.concurrentRequests);
    QVERIFY(groq->rateLimits.scope == ManualRateLimits::Scope::Model);
    QVERIFY(c.provider(QStringLiteral("openai"))->rateLimits.isEmpty());

    QCOMPARE(c.chains.size(), 2);
    const ChainConfig *def = c.chain(QStringLiteral("default"));
    QVERIFY(def);
    QCOMPARE(def->line, 102);
    QCOMPARE(def->entries.size(), 5);
    QCOMPARE(def->entries.at(0).provider, QStringLiteral("openrouter"));
    QCOMPARE(def->entries.at(0).model, QStringLiteral("meta-llama/llama-3.1-8b-instruct:free"));
    QCOMPARE(def->entries.at(4).provider, QStringLiteral("moonshot"));
    QCOMPARE(def->entries.at(4).model, QStringLiteral("kimi-k2-0711-preview"));
    QCOMPARE(def->entries.at(4).line, 112);
    const ChainConfig *fast = c.chain(QStringLiteral("fast"));
    QVERIFY(fast);
    QCOMPARE(fast->entries.size(), 2);
    QCOMPARE(fast->entries.at(1).model, QStringLiteral("llama-3.1-8b"));
    QCOMPARE(c.keyLines.value(QStringLiteral("settings.defaultChain")), 10);
    QCOMPARE(c.chainForModel(QStringLiteral("gpt-4")), def);
}

void TestConfigLoader::referenceFixtureProviders_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("type");
    QTest::addColumn<qint64>("timeout"); // 0: none
    QTest::addColumn<QString>("baseUrl");
    QTest::addColumn<int>("line");

    QTest::newRow("openrouter") << 0 << "openrouter"
                                << "OpenRouter"
                                << "openrouter" << qint64(0) << "" << 34;
    QTest::newRow("groq") << 1 << "groq"
                          << "Groq"
                          << "groq" << qint64(10000) << "" << 40;
    QTest::newRow("cerebras") << 2 << "cerebras"
                              << "Cerebras"
                              << "cerebras" << qint64(15000) << "" << 51;
    QTest::newRow("openai") << 3 << "openai"
                            << "OpenAI"
                            << "openai" << qint64(0) << "" << 60;
    QTest::newRow("moonshot") << 4 << "moonshot"
                              << "Moonshot"
                              << "generic-openai" << qint64(0) << "https://api.moonshot.ai/v1" << 67;
    QTest::newRow("google-ai") << 5 << "google-ai"
                               << "Google AI Studio"
                               << "google-ai" << qint64(0) << "" << 73;
}

void TestConfigLoader::referenceFixtureProviders()
{
    QFETCH(int, index);
    const ConfigLoadResult result =
        ConfigLoader::loadFile(dataFile("reference-config.example.yaml"), envOf({}));
    QVERIFY(result.ok());
    QCOMPARE(result.config->providers.size(), 6);
    const ProviderConfig &p = result.config->providers.at(index);
    QTEST(p.id, "id");
    QTEST(p.name, "name");
    QTEST(p.type, "type");
    QTEST(p.timeoutMs.value_or(0), "timeout");
    QTEST(p.baseUrl, "baseUrl");
    QTEST(p.line, "line");
    QVERIFY(!p.apiKey.isEmpty());
    QVERIFY(p.enabled);
    QVERIFY(p.headers.isEmpty());
}

void TestConfigLoader::exampleConfigLoadsCleanly()
{
    const QByteArray example = ConfigLoader::exampleConfig();
    QVERIFY(!example.isEmpty());
    // The file on disk is the template: its settings and provider types come from the core's tables.
    QFile onDisk(QStringLiteral(CHAIN_SOURCE_DIR "/resources/config/config.example.yaml"));
    QVERIFY(onDisk.open(QIODevice::ReadOnly));
    const QByteArray templateText = onDisk.readAll();
    QVERIFY(templateText.contains("@settings@"));
    QVERIFY(!example.contains("@settings@"));
    QVERIFY(!example.contains("@types@"));
    QVERIFY(example.contains(ProviderKind::knownTypes().join(QLatin1String(", ")).toUtf8()));
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        // Every setting with its description; ours commented out, the reference's set.
        const QByteArray key = QByteArray(QByteArray(k.reference ? "\n  " : "\n  # ") + k.name + ":");
        QVERIFY2(example.contains(key), k.name);
        QVERIFY2(example.contains(QByteArray(QByteArray("# ") + k.description + "\n")), k.name);
    }

    // No variables set: every reference has a default.
    ConfigLoadResult result =
        ConfigLoader::loadString(example, QStringLiteral("config.example.yaml"), envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QVERIFY2(result.warnings.isEmpty(), qPrintable(result.warnings.join(QLatin1Char('\n'))));
    const Config &c = *result.config;
    QCOMPARE(c.settings.defaultChain, QStringLiteral("default"));
    QCOMPARE(c.settings.apiKeys.size(), 1);
    QVERIFY(!c.settings.apiKeys.first().isEmpty());
    QStringList ids;
    for (const ProviderConfig &p : c.providers)
        ids << p.id;
    QCOMPARE(ids, (QStringList{QStringLiteral("groq"), QStringLiteral("openrouter"),
                               QStringLiteral("cerebras"), QStringLiteral("google-ai")}));
    QVERIFY(c.provider(QStringLiteral("groq"))->apiKey.isEmpty());
    QVERIFY(c.chain(QStringLiteral("default")));
    QVERIFY(c.chain(QStringLiteral("fast")));

    // With variables set they are used.
    result = ConfigLoader::loadString(
        example, QStringLiteral("config.example.yaml"),
        envOf({QStringLiteral("GROQ_API_KEY=gsk_real"), QStringLiteral("PROXY_API_KEY=secret")}));
    QVERIFY(result.ok());
    QCOMPARE(result.config->provider(QStringLiteral("groq"))->apiKey, QStringLiteral("gsk_real"));
    QCOMPARE(result.config->settings.apiKeys, QStringList{QStringLiteral("secret")});
}

void TestConfigLoader::additionsAreRead()
{
    const QByteArray yaml = edit({
        {7, "  host: 0.0.0.0\n  adminKeys: [admin-1]\n  corsOrigins: [\"http://localhost:5173\", \"*\"]\n"
            "  maxRequestBytes: 2048\n  logRetentionDays: 7\n  logLevel: trace"},
        {11,
         "    type: mistral\n    enabled: false\n    headers:\n      X-Title: my-app\n      A-First: \"1\""},
        {13, "    rateLimits: { requestsPerHour: 100, tokensPerDay: 500000, scope: provider, "
             "concurrentRequests: 2 }"},
        {16, "    type: nvidia-nim"},
    });
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QVERIFY(result.warnings.isEmpty());
    const Settings &s = result.config->settings;
    QCOMPARE(s.host, QStringLiteral("0.0.0.0"));
    QCOMPARE(s.adminKeys, QStringList{QStringLiteral("admin-1")});
    QCOMPARE(s.corsOrigins, (QStringList{QStringLiteral("http://localhost:5173"), QStringLiteral("*")}));
    QCOMPARE(s.maxRequestBytes, 2048);
    QCOMPARE(s.logRetentionDays, 7);
    QCOMPARE(s.logLevel, QStringLiteral("trace"));
    const ProviderConfig &p = result.config->providers.at(0);
    QCOMPARE(p.type, QStringLiteral("mistral"));
    QCOMPARE(p.enabled, false);
    QCOMPARE(p.headers.size(), 2);
    QCOMPARE(p.headers.at(0).first, QByteArray("X-Title"));
    QCOMPARE(p.headers.at(0).second, QByteArray("my-app"));
    QCOMPARE(p.headers.at(1).first, QByteArray("A-First"));
    QCOMPARE(p.rateLimits.requestsPerHour, std::optional<int>(100));
    QCOMPARE(p.rateLimits.tokensPerDay, std::optional<int>(500000));
    QCOMPARE(p.rateLimits.concurrentRequests, std::optional<int>(2));
    QVERIFY(p.rateLimits.scope == ManualRateLimits::Scope::Provider);
    QVERIFY(!p.timeoutMs); // line 13 was replaced
    QVERIFY(s.storage.isEmpty());
    QVERIFY(s.replicaName.isEmpty());
    QCOMPARE(result.config->providers.at(1).type, QStringLiteral("nvidia-nim"));
}

void TestConfigLoader::acceptedValues_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("logLevel trace") << edit({{7, "  logLevel: trace"}});
    QTest::newRow("logLevel fatal") << edit({{7, "  logLevel: fatal"}});
    QTest::newRow("host localhost") << edit({{7, "  host: localhost"}});
    QTest::newRow("host ipv6") << edit({{7, "  host: \"::\""}});
    QTest::newRow("empty apiKey") << edit({{12, "    apiKey: \"\""}});
    QTest::newRow("no apiKey") << edit({{12, "    # no key"}});
    QTest::newRow("bool True") << edit({{7, "  queueMode: True"}});
    QTest::newRow("null optional") << edit({{13, "    timeout:"}});
    QTest::newRow("empty rateLimits") << edit({{13, "    rateLimits:"}});
    QTest::newRow("https baseUrl") << edit({{18, "    baseUrl: https://example.com:8443/openai/v1"}});
    QTest::newRow("baseUrl on known type") << edit({{13, "    baseUrl: http://localhost:9000/v1"}});
    QTest::newRow("int from env default") << edit({{3, "  port: ${TEST_PORT:-4000}"}});
    QTest::newRow("storage sqlite") << edit({{7, "  storage: sqlite"}});
    QTest::newRow("storage postgresql")
        << edit({{7, "  storage: \"postgresql://chain:pw@db.internal:5433/team?sslmode=require\"\n"
                     "  replicaName: box-1"}});
    QTest::newRow("storage postgres scheme, no password")
        << edit({{7, "  storage: postgres://chain@db/team"}});
    QTest::newRow("storage password from env")
        << edit({{7, "  storage: \"postgresql://chain:${PGPW:-x}@db/team\""}});
}

void TestConfigLoader::acceptedValues()
{
    QFETCH(QByteArray, yaml);
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QVERIFY2(result.warnings.isEmpty(), qPrintable(result.warnings.join(QLatin1Char('\n'))));
}

void TestConfigLoader::errorNamesKeyAndLine_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("fragment");

    QTest::newRow("version 2") << edit({{1, "version: 2"}}) << "version" << 1 << "must be 1";
    QTest::newRow("version missing") << edit({{1, "# none"}}) << "version" << 2 << "required";
    QTest::newRow("version string") << edit({{1, "version: \"1\""}}) << "version" << 1 << "integer";
    QTest::newRow("port zero") << edit({{3, "  port: 0"}}) << "settings.port" << 3 << "between 1 and 65535";
    QTest::newRow("port too big") << edit({{3, "  port: 70000"}}) << "settings.port" << 3 << "65535";
    QTest::newRow("port word") << edit({{3, "  port: abc"}}) << "settings.port" << 3 << "integer";
    QTest::newRow("port quoted") << edit({{3, "  port: \"3429\""}}) << "settings.port" << 3 << "string";
    QTest::newRow("port list") << edit({{3, "  port: [1]"}}) << "settings.port" << 3 << "a list";
    QTest::newRow("port float") << edit({{3, "  port: 3429.5"}}) << "settings.port" << 3 << "integer";
    QTest::newRow("port huge") << edit({{3, "  port: 99999999999"}}) << "settings.port" << 3 << "range";
    QTest::newRow("apiKeys empty") << edit({{4, "  apiKeys: []"}, {5, ""}}) << "settings.apiKeys" << 4 << "";
    QTest::newRow("apiKey blank") << edit({{5, "    - \"\""}}) << "settings.apiKeys[0]" << 5 << "empty";
    QTest::newRow("apiKeys scalar") << edit({{4, "  apiKeys: key"}, {5, ""}}) << "settings.apiKeys" << 4
                                    << "expected a list";
    QTest::newRow("apiKeys map") << edit({{5, "    a: b"}}) << "settings.apiKeys" << 5 << "a map";
    QTest::newRow("defaultChain missing") << edit({{6, ""}}) << "settings.defaultChain" << 2 << "required";
    QTest::newRow("defaultChain unknown")
        << edit({{6, "  defaultChain: nope"}}) << "settings.defaultChain" << 6 << "\"nope\"";
    QTest::newRow("defaultChain list")
        << edit({{6, "  defaultChain: [a]"}}) << "settings.defaultChain" << 6 << "expected a string";
    QTest::newRow("logLevel") << edit({{7, "  logLevel: verbose"}}) << "settings.logLevel" << 7 << "verbose";
    QTest::newRow("cooldownDefaultMs")
        << edit({{7, "  cooldownDefaultMs: 999"}}) << "settings.cooldownDefaultMs" << 7 << "at least 1000";
    QTest::newRow("requestTimeoutMs")
        << edit({{7, "  requestTimeoutMs: 0"}}) << "settings.requestTimeoutMs" << 7 << "1000";
    QTest::newRow("streamIdleTimeoutMs")
        << edit({{7, "  streamIdleTimeoutMs: -1"}}) << "settings.streamIdleTimeoutMs" << 7 << "1000";
    QTest::newRow("midStreamCooldownMs")
        << edit({{7, "  midStreamCooldownMs: 10"}}) << "settings.midStreamCooldownMs" << 7 << "1000";
    QTest::newRow("midStreamCooldownMaxMs")
        << edit({{7, "  midStreamCooldownMaxMs: 999"}}) << "settings.midStreamCooldownMaxMs" << 7 << "1000";
    QTest::newRow("queueMaxWaitMs") << edit({{7, "  queueMaxWaitMs: 5"}}) << "settings.queueMaxWaitMs" << 7
                                    << "1000";
    QTest::newRow("midStreamFailureThreshold") << edit({{7, "  midStreamFailureThreshold: 0"}})
                                               << "settings.midStreamFailureThreshold" << 7 << "at least 1";
    QTest::newRow("queueMaxSize") << edit({{7, "  queueMaxSize: -3"}}) << "settings.queueMaxSize" << 7 << "1";
    QTest::newRow("normalizeResponses yes")
        << edit({{7, "  normalizeResponses: yes"}}) << "settings.normalizeResponses" << 7 << "true or false";
    QTest::newRow("queueMode quoted")
        << edit({{7, "  queueMode: \"true\""}}) << "settings.queueMode" << 7 << "true or false";
    QTest::newRow("queueMode 1") << edit({{7, "  queueMode: 1"}}) << "settings.queueMode" << 7
                                 << "true or false";
    QTest::newRow("host name") << edit({{7, "  host: my-host"}}) << "settings.host" << 7 << "IP address";
    QTest::newRow("storage word") << edit({{7, "  storage: mysql"}}) << "settings.storage" << 7
                                  << "must be \"sqlite\" or a URL postgresql://";
    QTest::newRow("storage no database") << edit({{7, "  storage: postgresql://chain:pw@db"}})
                                         << "settings.storage" << 7 << "names no database";
    QTest::newRow("storage no user") << edit({{7, "  storage: postgresql://db/team"}}) << "settings.storage"
                                     << 7 << "names no user";
    QTest::newRow("storage unknown option")
        << edit({{7, "  storage: \"postgresql://u:secret@db/team?sslmod=require\""}}) << "settings.storage"
        << 7 << "unknown connection option \"sslmod\"";
    QTest::newRow("storage bad port")
        << edit({{7, "  storage: \"postgresql://u:pw@db:99999/team\""}}) << "settings.storage" << 7 << "";
    QTest::newRow("host bad ip") << edit({{7, "  host: 999.1.1.1"}}) << "settings.host" << 7 << "IP address";
    QTest::newRow("settings list") << edit(
                                          {{2, "settings: [1]"}, {3, ""}, {4, ""}, {5, ""}, {6, ""}, {7, ""}})
                                   << "settings" << 2 << "expected a map";
    QTest::newRow("duplicate key") << edit({{7, "  port: 1234"}}) << "settings.port" << 7 << "duplicate key";
    QTest::newRow("duplicate provider")
        << edit({{14, "  - id: groq"}}) << "providers[1].id" << 14 << "duplicate provider id \"groq\"";
    QTest::newRow("empty provider id") << edit({{9, "  - id: \"\""}}) << "providers[0].id" << 9 << "empty";
    QTest::newRow("missing provider id")
        << edit({{9, "  - nothing: 1"}}) << "providers[0].id" << 9 << "required";
    QTest::newRow("empty name") << edit({{10, "    name: \"\""}}) << "providers[0].name" << 10 << "empty";
    QTest::newRow("unknown type") << edit({{11, "    type: grok"}}) << "providers[0].type" << 11
                                  << "\"grok\"";
    QTest::newRow("generic without baseUrl")
        << edit({{18, ""}}) << "providers[1].baseUrl" << 14 << "required";
    QTest::newRow("bad baseUrl") << edit({{18, "    baseUrl: \"htp:/x\""}}) << "providers[1].baseUrl" << 18
                                 << "\"htp:/x\" is not a valid http(s) URL";
    QTest::newRow("baseUrl no host") << edit({{18, "    baseUrl: \"http://\""}}) << "providers[1].baseUrl"
                                     << 18 << "http(s) URL";
    QTest::newRow("baseUrl relative")
        << edit({{18, "    baseUrl: /v1"}}) << "providers[1].baseUrl" << 18 << "URL";
    QTest::newRow("baseUrl ftp") << edit({{18, "    baseUrl: ftp://host/v1"}}) << "providers[1].baseUrl" << 18
                                 << "URL";
    QTest::newRow("apiKey list") << edit({{12, "    apiKey: [a]"}}) << "providers[0].apiKey" << 12
                                 << "a list";
    QTest::newRow("timeout small") << edit({{13, "    timeout: 999"}}) << "providers[0].timeout" << 13
                                   << "1000";
    QTest::newRow("timeout word") << edit({{13, "    timeout: soon"}}) << "providers[0].timeout" << 13
                                  << "integer";
    QTest::newRow("enabled maybe") << edit({{13, "    enabled: maybe"}}) << "providers[0].enabled" << 13
                                   << "true or false";
    QTest::newRow("rateLimits list") << edit({{13, "    rateLimits: [30]"}}) << "providers[0].rateLimits"
                                     << 13 << "expected a map";
    QTest::newRow("rpm zero") << edit({{13, "    rateLimits: { requestsPerMinute: 0 }"}})
                              << "providers[0].rateLimits.requestsPerMinute" << 13 << "positive";
    QTest::newRow("tpd negative") << edit({{13, "    rateLimits: { tokensPerDay: -5 }"}})
                                  << "providers[0].rateLimits.tokensPerDay" << 13 << "positive";
    QTest::newRow("concurrency string") << edit({{13, "    rateLimits: { concurrentRequests: many }"}})
                                        << "providers[0].rateLimits.concurrentRequests" << 13 << "integer";
    QTest::newRow("scope") << edit({{13, "    rateLimits: { scope: global }"}})
                           << "providers[0].rateLimits.scope" << 13 << "\"model\" or \"provider\"";
    QTest::newRow("headers list") << edit({{13, "    headers: [a]"}}) << "providers[0].headers" << 13
                                  << "expected a map";
    QTest::newRow("header name") << edit({{13, "    headers: { \"Bad Name\": x }"}})
                                 << "providers[0].headers.Bad Name" << 13 << "header name";
    QTest::newRow("header value map") << edit({{13, "    headers: { X-A: { b: c } }"}})
                                      << "providers[0].headers.X-A" << 13 << "expected a string";
    QTest::newRow("duplicate chain") << edit({{26, "  - name: default"}}) << "chains[1].name" << 26
                                     << "duplicate chain name";
    QTest::newRow("empty chain name") << edit({{20, "  - name: \"\""}}) << "chains[0].name" << 20 << "empty";
    QTest::newRow("no entries") << edit({{27, "    entries: []"}, {28, ""}}) << "chains[1].entries" << 27
                                << "at least one";
    QTest::newRow("entries map") << edit({{27, "    entries: { a: b }"}, {28, ""}}) << "chains[1].entries"
                                 << 27 << "expected a list";
    QTest::newRow("entry unknown provider")
        << edit({{22, "      - provider: nope"}}) << "chains[0].entries[0].provider" << 22 << "\"nope\"";
    QTest::newRow("flow entry unknown provider") << edit({{28, "      - { provider: nope, model: x }"}})
                                                 << "chains[1].entries[0].provider" << 28 << "\"nope\"";
    QTest::newRow("entry missing model")
        << edit({{25, ""}}) << "chains[0].entries[1].model" << 24 << "required";
    QTest::newRow("entry not a map") << edit({{28, "      - groq"}}) << "chains[1].entries[0]" << 28
                                     << "expected a map";
    QTest::newRow("env missing") << edit({{12, "    apiKey: \"${MISSING_KEY}\""}}) << "providers[0].apiKey"
                                 << 12 << "MISSING_KEY is not set";
    QTest::newRow("env malformed") << edit({{12, "    apiKey: \"${1BAD}\""}}) << "providers[0].apiKey" << 12
                                   << "not a valid environment variable reference";
    QTest::newRow("env unterminated")
        << edit({{12, "    apiKey: \"${OPEN\""}}) << "providers[0].apiKey" << 12 << "unterminated";
}

void TestConfigLoader::errorNamesKeyAndLine()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, path);
    QFETCH(int, line);
    QFETCH(QString, fragment);
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY(!result.ok());
    QVERIFY2(hasMessage(result.errors, path, line, fragment),
             qPrintable(result.errors.join(QLatin1Char('\n'))));
}

void TestConfigLoader::collectsAllErrors()
{
    const QByteArray yaml = edit({{3, "  port: 0"},
                                  {11, "    type: grok"},
                                  {18, "    baseUrl: \"htp:/x\""},
                                  {22, "      - provider: nope"}});
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 4);
    QVERIFY(hasMessage(result.errors, QStringLiteral("settings.port"), 3));
    QVERIFY(hasMessage(result.errors, QStringLiteral("providers[0].type"), 11));
    QVERIFY(hasMessage(result.errors, QStringLiteral("providers[1].baseUrl"), 18));
    QVERIFY(hasMessage(result.errors, QStringLiteral("chains[0].entries[0].provider"), 22));
    // Sorted by line.
    QVERIFY(result.errors.first().startsWith(QLatin1String("test.yaml:3:")));
}

void TestConfigLoader::structuralErrors_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("line");

    const QByteArray head = "version: 1\nsettings:\n  apiKeys: [k]\n  defaultChain: default\n";
    QTest::newRow("no providers")
        << head + "chains:\n  - name: default\n    entries: [{provider: x, model: y}]\n"
        << "providers" << 1;
    QTest::newRow("providers map") << head + "providers: {a: 1}\nchains: []\n"
                                   << "providers" << 5;
    QTest::newRow("provider scalar") << head + "providers:\n  - groq\nchains: []\n"
                                     << "providers[0]" << 6;
    QTest::newRow("provider empty") << head + "providers:\n  - id: a\n  -\n\nchains: []\n"
                                    << "providers[1]" << 7;
    QTest::newRow("no chains") << head + "providers:\n  - {id: a, name: A, type: groq, apiKey: k}\n"
                               << "chains" << 1;
    QTest::newRow("settings missing")
        << QByteArray("version: 1\nproviders: []\nchains: []\n") << "settings" << 1;
}

void TestConfigLoader::structuralErrors()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, path);
    QFETCH(int, line);
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY(!result.ok());
    QVERIFY2(hasMessage(result.errors, path, line), qPrintable(result.errors.join(QLatin1Char('\n'))));
}

void TestConfigLoader::envExpansion_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("expected");

    const QStringList keySet = {QStringLiteral("KEY=abc")};
    QTest::newRow("plain") << "plain" << QStringList() << "plain";
    QTest::newRow("set") << "${KEY}" << keySet << "abc";
    QTest::newRow("embedded") << "pre-${KEY}-post" << keySet << "pre-abc-post";
    QTest::newRow("two") << "${KEY}${KEY}" << keySet << "abcabc";
    QTest::newRow("default unused") << "${KEY:-zzz}" << keySet << "abc";
    QTest::newRow("default unset") << "${KEY:-zzz}" << QStringList() << "zzz";
    QTest::newRow("default empty var") << "${KEY:-zzz}" << QStringList{QStringLiteral("KEY=")} << "zzz";
    QTest::newRow("empty default") << "${KEY:-}" << QStringList() << "";
    QTest::newRow("set but empty") << "${KEY}" << QStringList{QStringLiteral("KEY=")} << "";
    QTest::newRow("escaped") << "$${KEY}" << keySet << "${KEY}";
    QTest::newRow("lone dollar") << "a$b" << QStringList() << "a$b";
}

void TestConfigLoader::envExpansion()
{
    QFETCH(QString, value);
    QFETCH(QStringList, env);
    QFETCH(QString, expected);
    const EnvExpander::Result expanded = EnvExpander::expand(value, envOf(env));
    QVERIFY(expanded.ok());
    QCOMPARE(expanded.value, expected);

    // The same through the loader, in a provider's apiKey.
    const QByteArray line = "    apiKey: \"" + value.toUtf8() + '"';
    const ConfigLoadResult result =
        ConfigLoader::loadString(edit({{12, line.constData()}}), kSource, envOf(env));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QCOMPARE(result.config->providers.at(0).apiKey, expected);
}

void TestConfigLoader::missingEnvVariableIsAnError()
{
    const ConfigLoadResult result = ConfigLoader::loadString(
        edit({{5, "    - ${PROXY_KEY}"}, {12, "    apiKey: ${GROQ_KEY}"}}), kSource, envOf({}));
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 2);
    QVERIFY(hasMessage(result.errors, QStringLiteral("settings.apiKeys[0]"), 5, QStringLiteral("PROXY_KEY")));
    QVERIFY(hasMessage(result.errors, QStringLiteral("providers[0].apiKey"), 12, QStringLiteral("GROQ_KEY")));
}

void TestConfigLoader::unknownKeysWarn_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("fragment");

    QTest::newRow("settings typo") << edit({{7, "  apikey: x"}}) << "settings.apikey" << 7 << "\"apiKeys\"";
    QTest::newRow("top level") << edit({{1, "version: 1\nextras: true"}}) << "extras" << 2 << "unknown key";
    QTest::newRow("provider typo") << edit({{13, "    baseurl: http://x"}}) << "providers[0].baseurl" << 13
                                   << "\"baseUrl\"";
    QTest::newRow("rateLimits typo") << edit({{13, "    rateLimits: { requestPerMinute: 3 }"}})
                                     << "providers[0].rateLimits.requestPerMinute" << 13
                                     << "\"requestsPerMinute\"";
    QTest::newRow("entry key") << edit({{23, "        model: llama\n        weight: 2"}})
                               << "chains[0].entries[0].weight" << 24 << "unknown key";
}

void TestConfigLoader::unknownKeysWarn()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, path);
    QFETCH(int, line);
    QFETCH(QString, fragment);
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, kSource, envOf({}));
    QVERIFY2(result.ok(), qPrintable(result.errors.join(QLatin1Char('\n'))));
    QCOMPARE(result.warnings.size(), 1);
    QVERIFY2(hasMessage(result.warnings, path, line, fragment), qPrintable(result.warnings.first()));
}

void TestConfigLoader::yamlSyntaxErrorHasLine()
{
    const ConfigLoadResult result = ConfigLoader::loadString(
        edit({{5, "    - \"unterminated"}, {6, "  defaultChain: [a, b"}}), kSource, envOf({}));
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 1);
    const QRegularExpression pattern(QStringLiteral("^test\\.yaml:(\\d+):(\\d+): YAML syntax error: .+"));
    const QRegularExpressionMatch match = pattern.match(result.errors.first());
    QVERIFY2(match.hasMatch(), qPrintable(result.errors.first()));
    QVERIFY2(match.captured(1).toInt() >= 5, qPrintable(result.errors.first()));

    const ConfigLoadResult tab =
        ConfigLoader::loadString("version: 1\nsettings:\n  a: [1, 2\n  b: }\n", kSource);
    QVERIFY(!tab.ok());
    QVERIFY2(tab.errors.first().startsWith(QLatin1String("test.yaml:")), qPrintable(tab.errors.first()));

    const ConfigLoadResult empty = ConfigLoader::loadString("# nothing\n", kSource, envOf({}));
    QVERIFY(!empty.ok());
    QVERIFY(empty.errors.first().contains(QLatin1String("empty")));
    const ConfigLoadResult scalar = ConfigLoader::loadString("just text\n", kSource, envOf({}));
    QVERIFY(!scalar.ok());
    QVERIFY(scalar.errors.first().startsWith(QLatin1String("test.yaml:1:1: expected a map")));
}

void TestConfigLoader::missingFile()
{
    const QString path = QStringLiteral("/nonexistent/dir/config.yaml");
    const ConfigLoadResult result = ConfigLoader::loadFile(path, envOf({}));
    QVERIFY(!result.ok());
    QCOMPARE(result.errors.size(), 1);
    QVERIFY(result.errors.first().startsWith(QLatin1String("Config file not found: ") + path));
    QVERIFY(result.errors.first().contains(QLatin1String("429chain --init")));
    QVERIFY(result.errors.first().contains(QLatin1String("--config")));

    QTemporaryDir dir;
    const ConfigLoadResult directory = ConfigLoader::loadFile(dir.path(), envOf({}));
    QVERIFY(!directory.ok());
    QVERIFY(directory.errors.first().startsWith(QLatin1String("Cannot read config file")));
}

void TestConfigLoader::loadFileSetsSourcePath()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("config.yaml"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(edit({{3, "  port: 0"}}));
    file.close();
    ConfigLoadResult result = ConfigLoader::loadFile(path, envOf({}));
    QVERIFY(!result.ok());
    QVERIFY2(result.errors.first().startsWith(path + QLatin1String(":3:")),
             qPrintable(result.errors.first()));

    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(edit({}));
    file.close();
    result = ConfigLoader::loadFile(path, envOf({}));
    QVERIFY(result.ok());
    QCOMPARE(result.config->sourcePath, path);
    QVERIFY(ConfigLoader::validate(*result.config).isEmpty());

    // validate() on an edited config points at the lines it knows.
    Config changed = *result.config;
    changed.providers[1].baseUrl = QStringLiteral("nope");
    const QStringList errors = ConfigLoader::validate(changed);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first(),
             path + QLatin1String(":18: providers[1].baseUrl: \"nope\" is not a valid http(s) URL"));
}

void TestConfigLoader::validateBuiltConfig()
{
    Config config;
    config.settings.apiKeys << QStringLiteral("k");
    config.settings.defaultChain = QStringLiteral("main");
    ProviderConfig provider;
    provider.id = QStringLiteral("p");
    provider.name = QStringLiteral("P");
    provider.type = QStringLiteral("generic-openai");
    config.providers << provider;
    config.chains << ChainConfig{QStringLiteral("main"),
                                 {ChainEntry{QStringLiteral("p"), QStringLiteral("m"), 0, std::nullopt}},
                                 0,
                                 std::nullopt};
    const QStringList errors = ConfigLoader::validate(config);
    QCOMPARE(errors,
             QStringList{QStringLiteral("providers[0].baseUrl: is required for type \"generic-openai\"")});

    config.providers[0].baseUrl = QStringLiteral("https://example.com/v1");
    QVERIFY(ConfigLoader::validate(config).isEmpty());
}

QTEST_GUILESS_MAIN(TestConfigLoader)
#include "tst_configloader.moc"
