// ConfigWriter: what it writes reads back equal, keeps ${ENV} references, replaces atomically with a .bak,
// 0600.

#include "configloader.h"
#include "configwriter.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

namespace {

const QString kFixture = QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/reference-config.example.yaml");
constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

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

ConfigLoader::EnvLookup envOf(const QHash<QString, QString> &vars)
{
    return [vars](const QString &name) -> std::optional<QString> {
        if (!vars.contains(name))
            return std::nullopt;
        return vars.value(name);
    };
}

QFileDevice::Permissions permissionBits(const QString &path)
{
    // Only the Unix bits (QFile::permissions() also reports the "user" flags, equal to owner ones).
    return QFile::permissions(path) &
           (QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
            QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
            QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther);
}

// Field by field, so a failure names what differs. Lines and the source path are where a config came from,
// not what it says.
void compareConfigs(const Config &a, const Config &b)
{
    QCOMPARE(a.version, b.version);
    const Settings &s = a.settings, &t = b.settings;
    QCOMPARE(s.port, t.port);
    QCOMPARE(s.host, t.host);
    QCOMPARE(s.apiKeys, t.apiKeys);
    QCOMPARE(s.adminKeys, t.adminKeys);
    QCOMPARE(s.defaultChain, t.defaultChain);
    QCOMPARE(s.logLevel, t.logLevel);
    QCOMPARE(s.cooldownDefaultMs, t.cooldownDefaultMs);
    QCOMPARE(s.requestTimeoutMs, t.requestTimeoutMs);
    QCOMPARE(s.streamIdleTimeoutMs, t.streamIdleTimeoutMs);
    QCOMPARE(s.dbPath, t.dbPath);
    QCOMPARE(s.normalizeResponses, t.normalizeResponses);
    QCOMPARE(s.midStreamFailureThreshold, t.midStreamFailureThreshold);
    QCOMPARE(s.midStreamCooldownMs, t.midStreamCooldownMs);
    QCOMPARE(s.midStreamCooldownMaxMs, t.midStreamCooldownMaxMs);
    QCOMPARE(s.queueMode, t.queueMode);
    QCOMPARE(s.queueMaxWaitMs, t.queueMaxWaitMs);
    QCOMPARE(s.queueMaxSize, t.queueMaxSize);
    QCOMPARE(s.corsOrigins, t.corsOrigins);
    QCOMPARE(s.maxRequestBytes, t.maxRequestBytes);
    QCOMPARE(s.logRetentionDays, t.logRetentionDays);

    QCOMPARE(a.providers.size(), b.providers.size());
    for (int i = 0; i < a.providers.size(); ++i) {
        const ProviderConfig &p = a.providers.at(i), &q = b.providers.at(i);
        QCOMPARE(p.id, q.id);
        QCOMPARE(p.name, q.name);
        QCOMPARE(p.type, q.type);
        QCOMPARE(p.apiKey, q.apiKey);
        QCOMPARE(p.baseUrl, q.baseUrl);
        QCOMPARE(p.timeoutMs.value_or(-1), q.timeoutMs.value_or(-1));
        QCOMPARE(p.enabled, q.enabled);
        QCOMPARE(p.headers.size(), q.headers.size());
        for (int h = 0; h < p.headers.size(); ++h) {
            QCOMPARE(p.headers.at(h).first, q.headers.at(h).first);
            QCOMPARE(p.headers.at(h).second, q.headers.at(h).second);
        }
        const ManualRateLimits &r = p.rateLimits, &u = q.rateLimits;
        QCOMPARE(r.requestsPerMinute.value_or(-1), u.requestsPerMinute.value_or(-1));
        QCOMPARE(r.requestsPerHour.value_or(-1), u.requestsPerHour.value_or(-1));
        QCOMPARE(r.requestsPerDay.value_or(-1), u.requestsPerDay.value_or(-1));
        QCOMPARE(r.tokensPerMinute.value_or(-1), u.tokensPerMinute.value_or(-1));
        QCOMPARE(r.tokensPerDay.value_or(-1), u.tokensPerDay.value_or(-1));
        QCOMPARE(r.concurrentRequests.value_or(-1), u.concurrentRequests.value_or(-1));
        QCOMPARE(r.scope == ManualRateLimits::Scope::Provider, u.scope == ManualRateLimits::Scope::Provider);
    }
    QCOMPARE(a.chains.size(), b.chains.size());
    for (int i = 0; i < a.chains.size(); ++i) {
        QCOMPARE(a.chains.at(i).name, b.chains.at(i).name);
        QCOMPARE(a.chains.at(i).entries.size(), b.chains.at(i).entries.size());
        for (int j = 0; j < a.chains.at(i).entries.size(); ++j) {
            QCOMPARE(a.chains.at(i).entries.at(j).provider, b.chains.at(i).entries.at(j).provider);
            QCOMPARE(a.chains.at(i).entries.at(j).model, b.chains.at(i).entries.at(j).model);
        }
    }
}

// A config that uses every addition and values that are awkward in YAML.
Config everyAddition()
{
    Config c;
    Settings &s = c.settings;
    s.port = 8088;
    s.host = QStringLiteral("0.0.0.0");
    s.apiKeys = {QStringLiteral("key: with colon"), QStringLiteral("123"), QStringLiteral("true"),
                 QStringLiteral("${NOT_A_REFERENCE}"), QStringLiteral("$${already escaped}")};
    s.adminKeys = {QStringLiteral("admin-key"), QStringLiteral("# not a comment")};
    s.defaultChain = QStringLiteral("null");
    s.logLevel = QStringLiteral("debug");
    s.cooldownDefaultMs = 45'000;
    s.requestTimeoutMs = 12'345;
    s.streamIdleTimeoutMs = 9'000;
    s.dbPath = QStringLiteral("/var/lib/429chain/ûnicode db.sqlite");
    s.normalizeResponses = true;
    s.midStreamFailureThreshold = 5;
    s.midStreamCooldownMs = 1'000;
    s.midStreamCooldownMaxMs = 7'200'000'000; // beyond 32 bits
    s.queueMode = true;
    s.queueMaxWaitMs = 2'000;
    s.queueMaxSize = 7;
    s.corsOrigins = {QStringLiteral("*"), QStringLiteral("https://ui.example.com")};
    s.maxRequestBytes = 4096;
    s.logRetentionDays = 3;

    ProviderConfig a;
    a.id = QStringLiteral("local");
    a.name = QStringLiteral("Local model: \"quoted\" 'n' [brackets] {braces}");
    a.type = QStringLiteral("generic-openai");
    a.apiKey = QString();
    a.baseUrl = QStringLiteral("http://127.0.0.1:8080/v1");
    a.timeoutMs = 120'000;
    a.enabled = false;
    a.headers = {{QByteArrayLiteral("X-Title"), QByteArrayLiteral("429chain")},
                 {QByteArrayLiteral("X-Empty"), QByteArray()},
                 {QByteArrayLiteral("X-Dollar"), QByteArrayLiteral("${HOME} literally")}};
    a.rateLimits.requestsPerMinute = 30;
    a.rateLimits.requestsPerHour = 500;
    a.rateLimits.requestsPerDay = 14'400;
    a.rateLimits.tokensPerMinute = 15'000;
    a.rateLimits.tokensPerDay = 1'000'000;
    a.rateLimits.concurrentRequests = 2;
    a.rateLimits.scope = ManualRateLimits::Scope::Provider;
    ProviderConfig b;
    b.id = QStringLiteral("42");
    b.name = QStringLiteral("yes");
    b.type = QStringLiteral("groq");
    b.apiKey = QStringLiteral("gsk_\u00e9\u4e2d\t\\back");
    b.rateLimits.scope = ManualRateLimits::Scope::Provider; // scope without limits
    c.providers = {a, b};

    ChainConfig first;
    first.name = QStringLiteral("null");
    first.entries = {{QStringLiteral("local"), QStringLiteral("qwen2.5:7b"), 0, std::nullopt},
                     {QStringLiteral("42"), QStringLiteral("3.5"), 0, std::nullopt}};
    ChainConfig second;
    second.name = QStringLiteral("with space");
    second.entries = {
        {QStringLiteral("42"), QStringLiteral("meta-llama/llama-3.1-8b-instruct:free"), 0, std::nullopt}};
    c.chains = {first, second};
    return c;
}

} // namespace

class TestConfigWriter : public QObject
{
    Q_OBJECT

private slots:
    void roundTripsTheReferenceFixture()
    {
        const ConfigLoadResult original = ConfigLoader::loadFile(kFixture);
        QVERIFY2(original.ok(), qPrintable(original.errors.join(QLatin1Char('\n'))));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.yaml"));
        QString error;
        QByteArray written;
        QVERIFY2(ConfigWriter::write(*original.config, path, &error, &written), qPrintable(error));
        QCOMPARE(readAll(path), written);

        const ConfigLoadResult reread = ConfigLoader::loadFile(path);
        QVERIFY2(reread.ok(), qPrintable(reread.errors.join(QLatin1Char('\n')) + QLatin1Char('\n') +
                                         QString::fromUtf8(written)));
        QVERIFY2(reread.warnings.isEmpty(), qPrintable(reread.warnings.join(QLatin1Char('\n'))));
        compareConfigs(*original.config, *reread.config);
        if (QTest::currentTestFailed())
            return;
        // Writing what was read gives the same bytes: saves do not drift.
        QCOMPARE(ConfigWriter::toYaml(*reread.config), written);
    }

    void writesEveryReferenceSettingAndOursOnlyWhenSet()
    {
        const ConfigLoadResult original = ConfigLoader::loadFile(kFixture);
        QVERIFY(original.ok());
        const QString text = QString::fromUtf8(ConfigWriter::toYaml(*original.config));
        QVERIFY(text.contains(QLatin1String("\nversion: 1\n")));
        for (const char *key : {"port", "apiKeys", "defaultChain", "logLevel", "cooldownDefaultMs",
                                "requestTimeoutMs", "streamIdleTimeoutMs", "dbPath", "normalizeResponses",
                                "midStreamFailureThreshold", "midStreamCooldownMs", "midStreamCooldownMaxMs",
                                "queueMode", "queueMaxWaitMs", "queueMaxSize"}) {
            QVERIFY2(text.contains(QLatin1String("\n  ") + QLatin1String(key) + QLatin1Char(':')), key);
        }
        for (const char *key :
             {"host:", "adminKeys:", "corsOrigins:", "maxRequestBytes:", "logRetentionDays:", "enabled:",
              "headers:", "scope:", "requestsPerHour:", "tokensPerDay:"}) {
            QVERIFY2(!text.contains(QLatin1String(key)), key);
        }
        QVERIFY(text.contains(QLatin1String("\n  - id: groq\n")));
        QVERIFY(text.contains(QLatin1String("apiKey: \"gsk_your-key-here\"")));
        QVERIFY(text.contains(QLatin1String("      requestsPerMinute: 30\n")));
    }

    void roundTripsEveryAddition()
    {
        const Config config = everyAddition();
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.yaml"));
        QString error;
        QVERIFY2(ConfigWriter::write(config, path, &error), qPrintable(error));
        // No environment at all: a value that looks like a reference must be literal in the file.
        const ConfigLoadResult reread = ConfigLoader::loadFile(path, envOf({}));
        QVERIFY2(reread.ok(), qPrintable(reread.errors.join(QLatin1Char('\n')) + QLatin1Char('\n') +
                                         QString::fromUtf8(readAll(path))));
        QVERIFY2(reread.warnings.isEmpty(), qPrintable(reread.warnings.join(QLatin1Char('\n'))));
        compareConfigs(config, *reread.config);
    }

    void keepsEnvironmentReferences()
    {
        const QByteArray previous = "version: 1\n"
                                    "settings:\n"
                                    "  port: ${TEST_PORT}\n"
                                    "  apiKeys:\n"
                                    "    - \"${PROXY_KEY}\"\n"
                                    "  defaultChain: default\n"
                                    "providers:\n"
                                    "  - id: groq\n"
                                    "    name: Groq\n"
                                    "    type: groq\n"
                                    "    apiKey: ${GROQ_KEY}\n"
                                    "  - id: other\n"
                                    "    name: Other\n"
                                    "    type: groq\n"
                                    "    apiKey: ${OTHER_KEY:-fallback}\n"
                                    "chains:\n"
                                    "  - name: default\n"
                                    "    entries:\n"
                                    "      - { provider: groq, model: \"${MODEL}\" }\n";
        const auto env = envOf({{QStringLiteral("TEST_PORT"), QStringLiteral("4000")},
                                {QStringLiteral("PROXY_KEY"), QStringLiteral("proxy-secret")},
                                {QStringLiteral("GROQ_KEY"), QStringLiteral("gsk-secret")},
                                {QStringLiteral("MODEL"), QStringLiteral("llama")}});
        const ConfigLoadResult loaded = ConfigLoader::loadString(previous, QStringLiteral("env.yaml"), env);
        QVERIFY2(loaded.ok(), qPrintable(loaded.errors.join(QLatin1Char('\n'))));
        Config config = *loaded.config;
        QCOMPARE(config.providers.at(0).apiKey, QStringLiteral("gsk-secret"));
        // Providers reordered and one key changed by an admin: the reference follows its provider, the new
        // key is written as it is.
        std::swap(config.providers[0], config.providers[1]);
        config.providers[0].apiKey = QStringLiteral("typed-in-key");

        const QByteArray text = ConfigWriter::toYaml(config, previous, env);
        QVERIFY2(!text.contains("gsk-secret") && !text.contains("proxy-secret"), text.constData());
        QVERIFY(text.contains("apiKey: \"${GROQ_KEY}\""));
        QVERIFY(text.contains("- \"${PROXY_KEY}\""));
        QVERIFY(text.contains("port: ${TEST_PORT}"));
        QVERIFY(text.contains("model: \"${MODEL}\""));
        QVERIFY(text.contains("apiKey: \"typed-in-key\""));

        const ConfigLoadResult reread = ConfigLoader::loadString(text, QStringLiteral("written.yaml"), env);
        QVERIFY2(reread.ok(), qPrintable(reread.errors.join(QLatin1Char('\n')) + QString::fromUtf8(text)));
        compareConfigs(config, *reread.config);
    }

    void keepsThePreviousFileAsBak()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.yaml"));
        const QString bak = path + QLatin1String(".bak");
        Config config = everyAddition();
        QString error;
        QByteArray first;
        QVERIFY2(ConfigWriter::write(config, path, &error, &first), qPrintable(error));
        QVERIFY(!QFileInfo::exists(bak)); // nothing to keep the first time

        config.settings.port = 9000;
        QByteArray second;
        QVERIFY2(ConfigWriter::write(config, path, &error, &second), qPrintable(error));
        QVERIFY(first != second);
        QCOMPARE(readAll(path), second);
        QCOMPARE(readAll(bak), first);
        // No temporary files are left behind.
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 2);

        // A hand-written file becomes the .bak as it was, comments and all.
        const QByteArray handWritten = "# my comments\n" + readAll(kFixture);
        QVERIFY(writeAll(path, handWritten));
        QVERIFY2(ConfigWriter::write(config, path, &error), qPrintable(error));
        QCOMPARE(readAll(bak), handWritten);
    }

    void filesAreOwnerOnly()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.yaml"));
        QVERIFY(writeAll(path, readAll(kFixture)));
        QVERIFY(QFile::setPermissions(path, kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther));
        const ConfigLoadResult loaded = ConfigLoader::loadFile(path);
        QVERIFY(loaded.ok());
        QString error;
        QVERIFY2(ConfigWriter::write(*loaded.config, path, &error), qPrintable(error));
        QCOMPARE(permissionBits(path), kOwnerOnly);
        QCOMPARE(permissionBits(path + QLatin1String(".bak")), kOwnerOnly);
    }

    void unwritableDirectoryFailsCleanly()
    {
        QTemporaryDir dir;
        // A parent that is a file: no user, root included, can create the config under it.
        const QString blocker = dir.filePath(QStringLiteral("not-a-dir"));
        QVERIFY(writeAll(blocker, "x"));
        QString error;
        QVERIFY(!ConfigWriter::write(everyAddition(), blocker + QLatin1String("/config.yaml"), &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(error.contains(QLatin1String("config.yaml")));
        QCOMPARE(readAll(blocker), QByteArray("x"));

        // A read-only directory holding the config: it stays as it was, no .bak, no temp files.
        if (::geteuid() == 0)
            QSKIP("root can write into read-only directories");
        const QString sub = dir.filePath(QStringLiteral("ro"));
        QVERIFY(QDir().mkpath(sub));
        const QString path = sub + QLatin1String("/config.yaml");
        QVERIFY(writeAll(path, "version: 1\n"));
        QVERIFY(QFile::setPermissions(sub, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        error.clear();
        const bool ok = ConfigWriter::write(everyAddition(), path, &error);
        QFile::setPermissions(sub, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        QVERIFY(!ok);
        QVERIFY(!error.isEmpty());
        QCOMPARE(readAll(path), QByteArray("version: 1\n"));
        QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden).size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestConfigWriter)
#include "tst_configwriter.moc"
