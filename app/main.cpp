// 429chain: an OpenAI-compatible endpoint on your machine that serves every request from free inference
// tiers.

#include "configloader.h"
#include "configpaths.h"
#include "demoenvironment.h"
#include "engine.h"
#include "logsetup.h"
#include "signalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTimer>

#include <cstdio>
#include <optional>

Q_LOGGING_CATEGORY(lcApp, "chain.app")

namespace {

constexpr int kShutdownGraceMs = 5000;

void print(const QString &text, FILE *to = stdout)
{
    const QByteArray bytes = text.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), to);
    std::fflush(to);
}

int writeExampleConfig(const QString &path)
{
    if (QFileInfo::exists(path)) {
        print(QStringLiteral("Error: Config file already exists at %1").arg(path), stderr);
        return 1;
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
        print(QStringLiteral("Error: cannot write %1: %2").arg(path, file.errorString()), stderr);
        return 1;
    }
    file.write(ConfigLoader::exampleConfig());
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner); // it will hold provider keys
    file.close();
    print(QStringLiteral(
              "Created %1\n\nNext steps:\n"
              "  1. Put your provider keys in it (or export GROQ_API_KEY, OPENROUTER_API_KEY, ...).\n"
              "  2. Change settings.apiKeys to a secret of your own.\n"
              "  3. Check it:  429chain --check-config -c %1\n"
              "  4. Start it:  429chain -c %1")
              .arg(path));
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("429chain"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CHAIN_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "An OpenAI-compatible proxy that waterfalls each request over a chain of free-tier providers."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption headlessOpt(QStringLiteral("headless"),
                                         QStringLiteral("Run without a window or tray icon."));
    const QCommandLineOption configOpt(
        {QStringLiteral("c"), QStringLiteral("config")},
        QStringLiteral("Config file (default: CONFIG_PATH, else ./config/config.yaml)."),
        QStringLiteral("path"));
    const QCommandLineOption portOpt({QStringLiteral("p"), QStringLiteral("port")},
                                     QStringLiteral("Port to listen on (overrides PORT and settings.port)."),
                                     QStringLiteral("port"));
    const QCommandLineOption hostOpt(QStringLiteral("host"),
                                     QStringLiteral("Address to bind (overrides HOST and settings.host)."),
                                     QStringLiteral("address"));
    const QCommandLineOption initOpt(QStringLiteral("init"),
                                     QStringLiteral("Write a commented example config and exit."));
    const QCommandLineOption demoOpt(
        QStringLiteral("demo"),
        QStringLiteral("Serve from simulated providers on this machine (no accounts needed)."));
    const QCommandLineOption checkOpt(QStringLiteral("check-config"),
                                      QStringLiteral("Validate the config and exit."));
    parser.addOptions({headlessOpt, configOpt, portOpt, hostOpt, initOpt, demoOpt, checkOpt});
    parser.process(app);

    LogSetup::install(qEnvironmentVariable("LOG_FORMAT", QStringLiteral("pretty")));
    const auto env = ConfigLoader::systemEnvironment();

    CommandLineOverrides overrides;
    overrides.configPath = parser.value(configOpt);
    overrides.host = parser.value(hostOpt);
    if (parser.isSet(portOpt)) {
        bool ok = false;
        const int port = parser.value(portOpt).toInt(&ok);
        if (!ok || port < 0 || port > 65535) {
            print(QStringLiteral("Error: --port must be a number from 0 to 65535, got \"%1\"")
                      .arg(parser.value(portOpt)),
                  stderr);
            return 2;
        }
        overrides.port = port;
    }
    const QString configPath = ConfigPaths::resolveConfigPath(overrides, env);

    if (parser.isSet(initOpt))
        return writeExampleConfig(configPath);

    std::optional<DemoEnvironment> demo;
    Config config;
    if (parser.isSet(demoOpt)) {
        demo.emplace();
        QString error;
        if (!demo->start(&error)) {
            print(QStringLiteral("Error: cannot start the demo providers: %1").arg(error), stderr);
            return 1;
        }
        config = demo->config(3429, QStringLiteral("127.0.0.1"));
    } else {
        const ConfigLoadResult loaded = ConfigLoader::loadFile(configPath, env);
        for (const auto &w : loaded.warnings)
            print(QStringLiteral("warning: %1").arg(w), stderr);
        if (!loaded.ok()) {
            for (const auto &e : loaded.errors)
                print(QStringLiteral("error: %1").arg(e), stderr);
            return 1;
        }
        config = *loaded.config;
    }
    const QStringList overrideErrors = ConfigPaths::applyOverrides(config, overrides, env);
    if (!overrideErrors.isEmpty()) {
        for (const auto &e : overrideErrors)
            print(QStringLiteral("error: %1").arg(e), stderr);
        return 1;
    }
    if (parser.isSet(checkOpt)) {
        print(QStringLiteral("%1: OK (%2 providers, %3 chains, default chain \"%4\")")
                  .arg(parser.isSet(demoOpt) ? QStringLiteral("demo config") : configPath)
                  .arg(config.providers.size())
                  .arg(config.chains.size())
                  .arg(config.settings.defaultChain));
        return 0;
    }
    LogSetup::setLevel(config.settings.logLevel);

    SignalWatcher signalWatcher; // before listening: a signal from then on is a graceful stop
    Engine engine(config);
    QString error;
    if (!engine.start(&error)) {
        print(QStringLiteral("Error: %1").arg(error), stderr);
        return 1;
    }
    const QString baseUrl = QStringLiteral("http://%1:%2/v1").arg(config.settings.host).arg(engine.port());
    qCInfo(lcApp).noquote() << "429chain" << CHAIN_VERSION << "listening on" << baseUrl
                            << QStringLiteral("(%1 providers, %2 chains, default \"%3\")")
                                   .arg(config.providers.size())
                                   .arg(config.chains.size())
                                   .arg(config.settings.defaultChain);
    if (demo) {
        qCInfo(lcApp).noquote() << "demo mode: simulated providers with small free-tier limits; API key:"
                                << DemoEnvironment::apiKey();
        qCInfo(lcApp).noquote()
            << QStringLiteral(
                   "try: curl %1/chat/completions -H 'Authorization: Bearer %2' "
                   "-H 'Content-Type: application/json' "
                   "-d '{\"model\":\"default\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'")
                   .arg(baseUrl, DemoEnvironment::apiKey());
    }

    bool stopping = false;
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &app, [&](int sig) {
        if (stopping) {
            qCWarning(lcApp) << "second signal: exiting now";
            std::_Exit(1);
        }
        stopping = true;
        qCInfo(lcApp) << "signal" << sig << "received: shutting down";
        engine.shutdown(kShutdownGraceMs);
    });
    QObject::connect(&engine, &Engine::stopped, &app, [] { QCoreApplication::exit(0); });
    const int rc = app.exec();
    qCInfo(lcApp) << "stopped";
    return rc;
}
