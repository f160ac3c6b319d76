// 429chain: an OpenAI-compatible endpoint on your machine that serves every request from free inference
// tiers.

#include "configloader.h"
#include "configpaths.h"
#include "configtransfer.h"
#include "demoenvironment.h"
#include "engine.h"
#include "logsetup.h"
#include "signalwatcher.h"

#ifdef CHAIN_WITH_GUI
#include "desktopapp.h"
#include "health.h"
#include "onboardingdialog.h"
#include "singleinstance.h"

#include <QApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTranslator>
#endif

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTimer>

#include <cstdio>
#include <memory>
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

// The desktop app runs when it was built, not refused (--headless, or a command that only prints) and a
// display exists; otherwise only a QCoreApplication is made (a QApplication without a display aborts).
bool wantsGui(int argc, char *argv[])
{
#ifdef CHAIN_WITH_GUI
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        for (const char *headless : {"--headless", "--init", "--check-config", "-h", "--help", "--help-all",
                                     "-v", "--version", "-?"}) {
            if (arg == headless)
                return false;
        }
    }
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
#else
    return true;
#endif
#else
    Q_UNUSED(argc);
    Q_UNUSED(argv);
    return false;
#endif
}

#ifdef CHAIN_WITH_GUI
// The desktop's error dialog, and the same text on stderr.
void guiError(const QString &text)
{
    print(text, stderr);
    QMessageBox box(QMessageBox::Critical, QCoreApplication::translate("main", "429chain"), text);
    box.setWindowIcon(Health::appIcon());
    box.exec();
}

// The system language's translation, embedded at :/i18n (English needs none), and Qt's own for its dialogs.
void installTranslations(QCoreApplication &app)
{
    auto *own = new QTranslator(&app);
    if (own->load(QLocale(), QStringLiteral("429chain"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QCoreApplication::installTranslator(own);
    auto *qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qt);
}
#endif

} // namespace

int main(int argc, char *argv[])
{
    [[maybe_unused]] const bool gui = wantsGui(argc, argv);
    std::unique_ptr<QCoreApplication> application;
#ifdef CHAIN_WITH_GUI
    if (gui) {
        QCoreApplication::setOrganizationName(QStringLiteral("429chain"));
        application = std::make_unique<QApplication>(argc, argv);
        QApplication::setQuitOnLastWindowClosed(false); // the tray keeps it running
        QApplication::setWindowIcon(Health::appIcon());
        QApplication::setDesktopFileName(QStringLiteral("429chain"));
        installTranslations(*application);
    }
#endif
    if (!application)
        application = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication &app = *application;
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
    const QCommandLineOption trayOpt(
        QStringLiteral("tray"), QStringLiteral("Desktop app: start in the tray without opening the window."));
    const QCommandLineOption exportOpt(
        QStringLiteral("export-config"),
        QStringLiteral(
            "Write the config the replicas share in PostgreSQL to <file> ('-': standard output) and "
            "exit."),
        QStringLiteral("file"));
    const QCommandLineOption importOpt(
        QStringLiteral("import-config"),
        QStringLiteral(
            "Validate <file> and store it as the config the replicas share in PostgreSQL (they apply "
            "it live), then exit."),
        QStringLiteral("file"));
    parser.addOptions({headlessOpt, configOpt, portOpt, hostOpt, initOpt, demoOpt, checkOpt, trayOpt,
                       exportOpt, importOpt});
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
    QString configPath = ConfigPaths::resolveConfigPath(overrides, env);

    if (parser.isSet(initOpt))
        return writeExampleConfig(configPath);

    bool useDemo = parser.isSet(demoOpt);
#ifdef CHAIN_WITH_GUI
    std::unique_ptr<SingleInstance> instance;
    QString firstPage;
    if (gui) {
        // One desktop instance per user: a second launch shows the first one's window and ends here.
        instance = std::make_unique<SingleInstance>();
        if (instance->activateRunning()) {
            print(QStringLiteral("429chain is already running: its window was brought to the front."));
            return 0;
        }
        QString error;
        if (!instance->listen(&error))
            qCWarning(lcApp).noquote() << "single-instance socket unavailable:" << error;
        // Started from a desktop menu the working folder is arbitrary: without -c, CONFIG_PATH or a
        // ./config/config.yaml the desktop app keeps its config in the user's config folder.
        if (overrides.configPath.isEmpty() && qEnvironmentVariableIsEmpty("CONFIG_PATH") &&
            !QFileInfo::exists(configPath)) {
            configPath = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
                         QStringLiteral("/429chain/config.yaml");
        }
        if (!useDemo && !QFileInfo::exists(configPath)) {
            // First run: a key, the URL, and a first provider or the demo.
            const int port = overrides.port.value_or(3429);
            const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
                                    QStringLiteral("/429chain");
            OnboardingDialog onboarding(configPath, dataDir,
                                        QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
            onboarding.exec();
            switch (onboarding.choice()) {
            case OnboardingDialog::Choice::None:
                return 0;
            case OnboardingDialog::Choice::Demo:
                useDemo = true;
                break;
            case OnboardingDialog::Choice::Provider:
                firstPage = QStringLiteral("ProvidersPage");
                break;
            }
        }
    }
    auto fail = [gui](const QString &text) {
        if (gui)
            guiError(text);
        else
            print(text, stderr);
    };
#else
    auto fail = [](const QString &text) { print(text, stderr); };
#endif

    std::optional<DemoEnvironment> demo;
    Config config;
    if (useDemo) {
        demo.emplace();
        QString error;
        if (!demo->start(&error)) {
            fail(QStringLiteral("Error: cannot start the demo providers: %1").arg(error));
            return 1;
        }
        config = demo->config(3429, QStringLiteral("127.0.0.1"));
    } else {
        const ConfigLoadResult loaded = ConfigLoader::loadFile(configPath, env);
        for (const auto &w : loaded.warnings)
            print(QStringLiteral("warning: %1").arg(w), stderr);
        if (!loaded.ok()) {
            QStringList lines;
            for (const auto &e : loaded.errors)
                lines << QStringLiteral("error: %1").arg(e);
            fail(lines.join(QLatin1Char('\n')));
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
    if (parser.isSet(exportOpt))
        return ConfigTransfer::exportTo(config, parser.value(exportOpt));
    if (parser.isSet(importOpt))
        return ConfigTransfer::importFrom(config, parser.value(importOpt), env);
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
        fail(QStringLiteral("Error: %1").arg(error));
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

#ifdef CHAIN_WITH_GUI
    std::unique_ptr<DesktopApp> desktop; // after the engine: it goes first
    if (gui) {
        DesktopApp::Options options;
        options.port = engine.port();
        options.demo = bool(demo);
        options.firstPage = firstPage;
        // "Start at login" starts the same config in the tray.
        options.autostartArguments << QStringLiteral("--tray");
        if (!overrides.configPath.isEmpty())
            options.autostartArguments << QStringLiteral("--config")
                                       << QFileInfo(configPath).absoluteFilePath();
        desktop = std::make_unique<DesktopApp>(engine.service(), engine.stats(), options);
        QObject::connect(instance.get(), &SingleInstance::activationRequested, desktop.get(), [&desktop] {
            qCInfo(lcApp) << "window requested by a second launch";
            desktop->activate();
        });
        desktop->start(!parser.isSet(trayOpt));
    }
#endif

    bool stopping = false;
    auto stop = [&] {
        if (stopping)
            return;
        stopping = true;
#ifdef CHAIN_WITH_GUI
        // The windows and the bridge's stats thread go before the engine closes the request log they read.
        desktop.reset(); // queued: never inside one of its own signals
#endif
        engine.shutdown(kShutdownGraceMs);
    };
#ifdef CHAIN_WITH_GUI
    if (desktop)
        QObject::connect(desktop.get(), &DesktopApp::quitRequested, &app, stop, Qt::QueuedConnection);
#endif
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &app, [&](int sig) {
        if (stopping) {
            qCWarning(lcApp) << "second signal: exiting now";
            std::_Exit(1);
        }
        qCInfo(lcApp) << "signal" << sig << "received: shutting down";
        stop();
    });
    QObject::connect(&engine, &Engine::stopped, &app, [] { QCoreApplication::exit(0); });
    const int rc = app.exec();
    qCInfo(lcApp) << "stopped";
    return rc;
}
