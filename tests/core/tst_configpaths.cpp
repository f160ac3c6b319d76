#include "configpaths.h"

#include <QTest>

// ConfigPaths: where the config file is, and how PORT/HOST/LOG_LEVEL and --port/--host override it.

namespace {

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

Config fileConfig(int port, const QString &host)
{
    Config config;
    config.settings.port = port;
    config.settings.host = host;
    config.settings.logLevel = QStringLiteral("info");
    config.settings.apiKeys = {QStringLiteral("k")}; // a non-loopback host without keys is refused
    return config;
}

} // namespace

class TestConfigPaths : public QObject
{
    Q_OBJECT

private slots:
    void resolveConfigPath_data();
    void resolveConfigPath();
    void portPrecedence_data();
    void portPrecedence();
    void hostPrecedence_data();
    void hostPrecedence();
    void badValues_data();
    void badValues();
    void databaseUrl_data();
    void databaseUrl();
    void logLevel_data();
    void logLevel();
};

void TestConfigPaths::resolveConfigPath_data()
{
    QTest::addColumn<QString>("cliPath");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("expected");

    QTest::newRow("default") << "" << QStringList() << "./config/config.yaml";
    QTest::newRow("env") << "" << QStringList{QStringLiteral("CONFIG_PATH=/etc/429chain/config.yaml")}
                         << "/etc/429chain/config.yaml";
    QTest::newRow("empty env") << "" << QStringList{QStringLiteral("CONFIG_PATH=")} << "./config/config.yaml";
    QTest::newRow("cli") << "my.yaml" << QStringList() << "my.yaml";
    QTest::newRow("cli beats env") << "/tmp/cli.yaml"
                                   << QStringList{QStringLiteral("CONFIG_PATH=/tmp/env.yaml")}
                                   << "/tmp/cli.yaml";
}

void TestConfigPaths::resolveConfigPath()
{
    QFETCH(QString, cliPath);
    QFETCH(QStringList, env);
    CommandLineOverrides cli;
    cli.configPath = cliPath;
    QTEST(ConfigPaths::resolveConfigPath(cli, envOf(env)), "expected");
}

void TestConfigPaths::portPrecedence_data()
{
    QTest::addColumn<int>("filePort");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<int>("cliPort"); // 0: not given, -1: 0
    QTest::addColumn<int>("expected");

    QTest::newRow("file") << 4000 << QStringList() << 0 << 4000;
    QTest::newRow("env beats file") << 4000 << QStringList{QStringLiteral("PORT=5000")} << 0 << 5000;
    QTest::newRow("cli beats env") << 4000 << QStringList{QStringLiteral("PORT=5000")} << 6000 << 6000;
    QTest::newRow("cli beats file") << 4000 << QStringList() << 6000 << 6000;
    QTest::newRow("empty env ignored") << 4000 << QStringList{QStringLiteral("PORT=")} << 0 << 4000;
    QTest::newRow("env zero: any free port") << 4000 << QStringList{QStringLiteral("PORT=0")} << 0 << 0;
    QTest::newRow("cli zero: any free port") << 4000 << QStringList() << -1 << 0;
    QTest::newRow("env with spaces") << 4000 << QStringList{QStringLiteral("PORT= 5001 ")} << 0 << 5001;
}

void TestConfigPaths::portPrecedence()
{
    QFETCH(int, filePort);
    QFETCH(QStringList, env);
    QFETCH(int, cliPort);
    Config config = fileConfig(filePort, QStringLiteral("127.0.0.1"));
    CommandLineOverrides cli;
    if (cliPort)
        cli.port = std::max(cliPort, 0);
    const QStringList errors = ConfigPaths::applyOverrides(config, cli, envOf(env));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
    QTEST(config.settings.port, "expected");
}

void TestConfigPaths::hostPrecedence_data()
{
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("cliHost");
    QTest::addColumn<QString>("expected");

    QTest::newRow("file") << QStringList() << ""
                          << "127.0.0.1";
    QTest::newRow("env") << QStringList{QStringLiteral("HOST=0.0.0.0")} << ""
                         << "0.0.0.0";
    QTest::newRow("cli beats env") << QStringList{QStringLiteral("HOST=0.0.0.0")} << "::1"
                                   << "::1";
    QTest::newRow("localhost") << QStringList() << "localhost"
                               << "localhost";
}

void TestConfigPaths::hostPrecedence()
{
    QFETCH(QStringList, env);
    QFETCH(QString, cliHost);
    Config config = fileConfig(3429, QStringLiteral("127.0.0.1"));
    CommandLineOverrides cli;
    cli.host = cliHost;
    const QStringList errors = ConfigPaths::applyOverrides(config, cli, envOf(env));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
    QTEST(config.settings.host, "expected");
}

void TestConfigPaths::badValues_data()
{
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<int>("cliPort"); // 0: not given
    QTest::addColumn<QString>("cliHost");
    QTest::addColumn<QString>("errorStart");

    QTest::newRow("PORT word") << QStringList{QStringLiteral("PORT=http")} << 0 << ""
                               << "PORT: \"http\"";
    QTest::newRow("PORT negative") << QStringList{QStringLiteral("PORT=-1")} << 0 << ""
                                   << "PORT: \"-1\"";
    QTest::newRow("PORT too big") << QStringList{QStringLiteral("PORT=70000")} << 0 << ""
                                  << "PORT: \"70000\"";
    QTest::newRow("PORT float") << QStringList{QStringLiteral("PORT=80.5")} << 0 << ""
                                << "PORT: \"80.5\"";
    QTest::newRow("HOST name") << QStringList{QStringLiteral("HOST=example.com")} << 0 << ""
                               << "HOST: \"example.com\"";
    QTest::newRow("--port") << QStringList() << 65536 << ""
                            << "--port: 65536";
    QTest::newRow("--host") << QStringList() << 0 << "nowhere"
                            << "--host: \"nowhere\"";
    QTest::newRow("DATABASE_URL") << QStringList{QStringLiteral("DATABASE_URL=mysql://u:pw@db/x")} << 0 << ""
                                  << "DATABASE_URL: must be \"sqlite\" or a URL";
    QTest::newRow("CHAIN_DATABASE_URL")
        << QStringList{QStringLiteral("CHAIN_DATABASE_URL=postgresql://u:pw@db")} << 0 << ""
        << "CHAIN_DATABASE_URL: postgresql://u:***@db names no database";
}

void TestConfigPaths::badValues()
{
    QFETCH(QStringList, env);
    QFETCH(int, cliPort);
    QFETCH(QString, cliHost);
    QFETCH(QString, errorStart);
    Config config = fileConfig(4000, QStringLiteral("127.0.0.1"));
    CommandLineOverrides cli;
    if (cliPort)
        cli.port = cliPort;
    cli.host = cliHost;
    const QStringList errors = ConfigPaths::applyOverrides(config, cli, envOf(env));
    QCOMPARE(errors.size(), 1);
    QVERIFY2(errors.first().startsWith(errorStart), qPrintable(errors.first()));
    // A bad value is not applied.
    QCOMPARE(config.settings.port, 4000);
    QCOMPARE(config.settings.host, QStringLiteral("127.0.0.1"));
}

void TestConfigPaths::databaseUrl_data()
{
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("storage");
    QTest::addColumn<QString>("replica");

    const QString file = QStringLiteral("postgresql://file:pw@db/file");
    QTest::newRow("file only") << QStringList() << file << "from-file";
    QTest::newRow("DATABASE_URL") << QStringList{QStringLiteral("DATABASE_URL=postgres://env:pw@db/env")}
                                  << "postgres://env:pw@db/env"
                                  << "from-file";
    QTest::newRow("CHAIN_DATABASE_URL wins")
        << QStringList{QStringLiteral("DATABASE_URL=postgres://env:pw@db/env"),
                       QStringLiteral("CHAIN_DATABASE_URL=postgresql://chain:pw@db2/chain")}
        << "postgresql://chain:pw@db2/chain"
        << "from-file";
    QTest::newRow("sqlite from env") << QStringList{QStringLiteral("CHAIN_DATABASE_URL=sqlite")} << "sqlite"
                                     << "from-file";
    QTest::newRow("replica name") << QStringList{QStringLiteral("CHAIN_REPLICA_NAME=pod-7")} << file
                                  << "pod-7";
}

void TestConfigPaths::databaseUrl()
{
    QFETCH(QStringList, env);
    Config config = fileConfig(3429, QStringLiteral("127.0.0.1"));
    config.settings.storage = QStringLiteral("postgresql://file:pw@db/file");
    config.settings.replicaName = QStringLiteral("from-file");
    const QStringList errors = ConfigPaths::applyOverrides(config, CommandLineOverrides(), envOf(env));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
    QTEST(config.settings.storage, "storage");
    QTEST(config.settings.replicaName, "replica");
}

void TestConfigPaths::logLevel_data()
{
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("expected");

    QTest::newRow("unset") << QStringList() << "info";
    QTest::newRow("debug") << QStringList{QStringLiteral("LOG_LEVEL=debug")} << "debug";
    QTest::newRow("upper case") << QStringList{QStringLiteral("LOG_LEVEL=WARN")} << "warn";
    QTest::newRow("invalid ignored") << QStringList{QStringLiteral("LOG_LEVEL=loud")} << "info";
}

void TestConfigPaths::logLevel()
{
    QFETCH(QStringList, env);
    Config config = fileConfig(3429, QStringLiteral("127.0.0.1"));
    const QStringList errors = ConfigPaths::applyOverrides(config, CommandLineOverrides(), envOf(env));
    QVERIFY(errors.isEmpty());
    QTEST(config.settings.logLevel, "expected");
}

QTEST_GUILESS_MAIN(TestConfigPaths)
#include "tst_configpaths.moc"
