#include "httpclient.h"
#include "simulatedprovider.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <vector>

#include <sys/stat.h>

// The 429chain executable as a user runs it: command line, config checks, --init, the demo server, signals,
// log format and what the binary links. Every case runs the real binary in a fresh temporary directory with
// an environment free of the variables the app reads (CONFIG_PATH, PORT, HOST, LOG_LEVEL, LOG_FORMAT).

namespace {

const QString kBinary = QStringLiteral(CHAIN_BINARY);
const QString kDemoKey = QStringLiteral("sk-429chain-demo");

// Generous: the machines running the suite are shared and noisy. None of these is a performance claim.
constexpr int kRunTimeoutMs = 30000;    // a short command (--help, --check-config, --init)
constexpr int kListenTimeoutMs = 15000; // from start until the "listening on" line
constexpr int kExitTimeoutMs = 10000;   // from SIGTERM until the process has exited
constexpr int kRequestTimeoutMs = 30000;

QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"CONFIG_PATH", "PORT", "HOST", "LOG_LEVEL", "LOG_FORMAT"})
        env.remove(QLatin1String(name));
    return env;
}

QProcessEnvironment environmentWith(const QString &name, const QString &value)
{
    QProcessEnvironment env = cleanEnvironment();
    env.insert(name, value);
    return env;
}

// Permission bits as the file system has them (QFile::permissions() mixes in owner/user/ACL views).
int permissionBits(const QString &path)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

QString octal(int bits)
{
    return QStringLiteral("0%1").arg(bits, 3, 8, QLatin1Char('0'));
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// A small valid config; the line numbers of kUnknownProviderConfig below depend on its shape.
const QByteArray kValidConfig = QByteArrayLiteral("version: 1\n"
                                                  "settings:\n"
                                                  "  apiKeys: [\"test-key\"]\n"
                                                  "  defaultChain: default\n"
                                                  "providers:\n"
                                                  "  - id: groq\n"
                                                  "    name: Groq\n"
                                                  "    type: groq\n"
                                                  "    apiKey: \"gsk-test\"\n"
                                                  "chains:\n"
                                                  "  - name: default\n"
                                                  "    entries:\n"
                                                  "      - provider: groq\n"
                                                  "        model: llama-3.1-8b-instant\n");

// The second entry of chain "default" names a provider that does not exist: line 15.
const QByteArray kUnknownProviderConfig =
    kValidConfig + QByteArrayLiteral("      - provider: nosuchprovider\n"
                                     "        model: some-model\n");
constexpr int kUnknownProviderLine = 15;

// An unterminated quoted scalar on line 4.
const QByteArray kSyntaxErrorConfig = QByteArrayLiteral("version: 1\n"
                                                        "settings:\n"
                                                        "  apiKeys: [\"test-key\"]\n"
                                                        "  defaultChain: \"default\n"
                                                        "providers: []\n");
constexpr int kSyntaxErrorLine = 4;

// A process started by a test; its output is collected as it comes.
struct Child
{
    QByteArray out;
    QByteArray err;
    std::unique_ptr<QProcess> process;

    void drain()
    {
        out += process->readAllStandardOutput();
        err += process->readAllStandardError();
    }
    QString outText()
    {
        drain();
        return QString::fromUtf8(out);
    }
    QString errText()
    {
        drain();
        return QString::fromUtf8(err);
    }
    bool running() const { return process->state() != QProcess::NotRunning; }

    // The port from the "listening on http://host:PORT/v1" line, or 0 while there is none.
    quint16 listeningPort()
    {
        static const QRegularExpression re(QStringLiteral("listening on http://[^\\s/]+:(\\d+)/v1"));
        const QRegularExpressionMatch match = re.match(errText());
        return match.hasMatch() ? match.captured(1).toUShort() : 0;
    }

    // Waits (in an event loop) until the server listens or the process has exited.
    quint16 waitForListening()
    {
        quint16 port = 0;
        [[maybe_unused]] const bool done = QTest::qWaitFor(
            [&] {
                port = listeningPort();
                return port != 0 || !running();
            },
            kListenTimeoutMs);
        return port;
    }

    // Waits (in an event loop) until the process has exited.
    bool waitForExit(int timeoutMs = kExitTimeoutMs)
    {
        const bool exited = QTest::qWaitFor([&] { return !running(); }, timeoutMs);
        drain();
        return exited;
    }

    QString describe()
    {
        // The state first: once it is NotRunning, QProcess holds all the output the process wrote.
        QString state;
        if (running())
            state = QStringLiteral("still running");
        else if (process->exitStatus() == QProcess::CrashExit)
            state = QStringLiteral("crashed (%1)").arg(process->errorString());
        else
            state = QStringLiteral("exit code %1").arg(process->exitCode());
        return QStringLiteral("%1 %2: %3\n--- stdout:\n%4\n--- stderr:\n%5")
            .arg(kBinary, process->arguments().join(QLatin1Char(' ')), state, outText(), errText());
    }
};

} // namespace

class TestApp : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    // 1. Command line
    void helpListsEveryOption();
    void versionPrintsVersion();

    // 2. --init
    void initWritesExampleConfig();
    void initRefusesToOverwrite();
    void initWritesToConfigOption();

    // 3. --check-config
    void checkConfigAcceptsReferenceFixture();
    void checkConfigUnknownProvider();
    void checkConfigMissingFile_data();
    void checkConfigMissingFile();
    void checkConfigYamlSyntaxError();
    void checkConfigUsesConfigPathEnvironment();
    void checkConfigOptionBeatsConfigPathEnvironment();

    // 4. Linkage
    void doesNotLinkWidgets();

    // 5. Demo server end to end
    void portZeroIsAccepted();
    void demoServesRequests();

    // 6. Graceful shutdown
    void shutdownLetsRunningStreamFinish();
    void restartKeepsRequestLogAndReloadsEdits();
    void shutdownEndsHangingRequestAndRecordsIt();

    // 7. Bad port values
    void badPortEnvironment_data();
    void badPortEnvironment();
    void badPortOption();

    // 8. JSON logs
    void jsonLogFormat();

    // 10. Rate-limit knowledge across restarts
    void restartKeepsKnownExhaustedEntries();

private:
    Child *start(const QStringList &arguments, const QProcessEnvironment &env = cleanEnvironment());
    // Runs a command that is expected to exit by itself; the returned child has exited unless it timed out.
    Child *run(const QStringList &arguments, const QProcessEnvironment &env = cleanEnvironment());
    QString path(const QString &relative) const { return m_dir->filePath(relative); }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::vector<std::unique_ptr<Child>> m_children;
};

void TestApp::initTestCase()
{
    QVERIFY2(QFileInfo(kBinary).isExecutable(), qPrintable(QStringLiteral("not built: %1").arg(kBinary)));
}

void TestApp::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
}

void TestApp::cleanup()
{
    for (const auto &child : m_children) {
        if (child->running()) {
            child->process->kill();
            child->process->waitForFinished(kExitTimeoutMs);
        }
    }
    m_children.clear();
    m_dir.reset();
}

Child *TestApp::start(const QStringList &arguments, const QProcessEnvironment &env)
{
    auto child = std::make_unique<Child>();
    child->process = std::make_unique<QProcess>();
    child->process->setProgram(kBinary);
    child->process->setArguments(arguments);
    child->process->setProcessEnvironment(env);
    child->process->setWorkingDirectory(m_dir->path());
    child->process->start();
    m_children.push_back(std::move(child));
    return m_children.back().get();
}

Child *TestApp::run(const QStringList &arguments, const QProcessEnvironment &env)
{
    Child *child = start(arguments, env);
    // Nothing here serves the child, so a blocking wait is fine.
    child->process->waitForFinished(kRunTimeoutMs);
    child->drain();
    return child;
}

// QTest shortens long failure messages, so the child's command line and whole output go to the log instead.
#define VERIFY_OR_SHOW(condition, message, child)                                                            \
    do {                                                                                                     \
        if (!(condition))                                                                                    \
            qWarning().noquote() << (child)->describe();                                                     \
        QVERIFY2(condition, qPrintable(message));                                                            \
    } while (false)

// A command that exited by itself, normally, with `code`.
#define VERIFY_EXIT(child, code)                                                                             \
    VERIFY_OR_SHOW(!(child)->running() && (child)->process->exitStatus() == QProcess::NormalExit &&          \
                       (child)->process->exitCode() == (code),                                               \
                   QStringLiteral("expected exit code %1").arg(code), child)

#define VERIFY_CONTAINS(text, fragment, child)                                                               \
    VERIFY_OR_SHOW((text).contains(fragment), QStringLiteral("expected \"%1\" in the output").arg(fragment), \
                   child)

// --- 1. Command line
// ------------------------------------------------------------------------------------------------

void TestApp::helpListsEveryOption()
{
    Child *child = run({QStringLiteral("--help")});
    VERIFY_EXIT(child, 0);
    const QString help = child->outText();
    for (const QString &option :
         {QStringLiteral("--headless"), QStringLiteral("-c, --config <path>"),
          QStringLiteral("-p, --port <port>"), QStringLiteral("--host <address>"), QStringLiteral("--init"),
          QStringLiteral("--demo"), QStringLiteral("--check-config"), QStringLiteral("-h, --help"),
          QStringLiteral("-v, --version")})
        VERIFY_CONTAINS(help, option, child);
}

void TestApp::versionPrintsVersion()
{
    for (const QString &option : {QStringLiteral("--version"), QStringLiteral("-v")}) {
        Child *child = run({option});
        VERIFY_EXIT(child, 0);
        QCOMPARE(child->outText().trimmed(), QStringLiteral("429chain " CHAIN_VERSION));
    }
    QCOMPARE(QStringLiteral(CHAIN_VERSION), QStringLiteral("0.1.0"));
}

// --- 2. --init
// ------------------------------------------------------------------------------------------------------

void TestApp::initWritesExampleConfig()
{
    Child *init = run({QStringLiteral("--init")});
    VERIFY_EXIT(init, 0);
    const QString written = path(QStringLiteral("config/config.yaml"));
    VERIFY_OR_SHOW(QFileInfo(written).isFile(), written, init);
    QVERIFY(!readFile(written).isEmpty());
    QCOMPARE(octal(permissionBits(written)), QStringLiteral("0600"));
    const QString out = init->outText();
    VERIFY_CONTAINS(out, QStringLiteral("config/config.yaml"), init);
    VERIFY_CONTAINS(out, QStringLiteral("Next steps"), init);
    VERIFY_CONTAINS(out, QStringLiteral("--check-config"), init);

    // What it wrote is a valid config, at the default path and given explicitly.
    Child *checkDefault = run({QStringLiteral("--check-config")});
    VERIFY_EXIT(checkDefault, 0);
    Child *checkExplicit = run({QStringLiteral("--check-config"), QStringLiteral("-c"), written});
    VERIFY_EXIT(checkExplicit, 0);
}

void TestApp::initRefusesToOverwrite()
{
    Child *first = run({QStringLiteral("--init")});
    VERIFY_EXIT(first, 0);
    const QString written = path(QStringLiteral("config/config.yaml"));
    QVERIFY(writeFile(written, kValidConfig)); // edited by the user since

    Child *second = run({QStringLiteral("--init")});
    VERIFY_EXIT(second, 1);
    VERIFY_CONTAINS(second->errText(), QStringLiteral("already exists"), second);
    QCOMPARE(readFile(written), kValidConfig);
}

void TestApp::initWritesToConfigOption()
{
    Child *init = run({QStringLiteral("--init"), QStringLiteral("-c"), QStringLiteral("other/path.yaml")});
    VERIFY_EXIT(init, 0);
    const QString written = path(QStringLiteral("other/path.yaml"));
    VERIFY_OR_SHOW(QFileInfo(written).isFile(), written, init);
    QCOMPARE(octal(permissionBits(written)), QStringLiteral("0600"));
    QVERIFY2(!QFileInfo::exists(path(QStringLiteral("config/config.yaml"))),
             "--init -c also wrote the default path");
    VERIFY_CONTAINS(init->outText(), QStringLiteral("other/path.yaml"), init);

    Child *check =
        run({QStringLiteral("--check-config"), QStringLiteral("-c"), QStringLiteral("other/path.yaml")});
    VERIFY_EXIT(check, 0);
    VERIFY_CONTAINS(check->outText(), QStringLiteral("OK"), check);
}

// --- 3. --check-config
// ----------------------------------------------------------------------------------------------

void TestApp::checkConfigAcceptsReferenceFixture()
{
    const QString fixture = QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/reference-config.example.yaml");
    QVERIFY(QFileInfo::exists(fixture));
    Child *check = run({QStringLiteral("--check-config"), QStringLiteral("-c"), fixture});
    VERIFY_EXIT(check, 0);
    VERIFY_CONTAINS(check->outText(), QStringLiteral("OK"), check);
}

void TestApp::checkConfigUnknownProvider()
{
    QVERIFY(writeFile(path(QStringLiteral("bad.yaml")), kUnknownProviderConfig));
    Child *check = run({QStringLiteral("--check-config"), QStringLiteral("-c"), QStringLiteral("bad.yaml")});
    VERIFY_EXIT(check, 1);
    const QString err = check->errText();
    VERIFY_CONTAINS(err, QStringLiteral("chains[0].entries[1].provider"), check);
    VERIFY_CONTAINS(err, QStringLiteral("bad.yaml:%1:").arg(kUnknownProviderLine), check);
    VERIFY_CONTAINS(err, QStringLiteral("nosuchprovider"), check);
}

void TestApp::checkConfigMissingFile_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("mentioned");

    QTest::newRow("-c") << QStringList{QStringLiteral("--check-config"), QStringLiteral("-c"),
                                       QStringLiteral("nothere.yaml")}
                        << QStringLiteral("nothere.yaml");
    QTest::newRow("default path") << QStringList{QStringLiteral("--check-config")}
                                  << QStringLiteral("config/config.yaml");
}

void TestApp::checkConfigMissingFile()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, mentioned);
    Child *check = run(arguments);
    VERIFY_EXIT(check, 1);
    const QString err = check->errText();
    VERIFY_CONTAINS(err, mentioned, check);
    VERIFY_CONTAINS(err, QStringLiteral("--init"), check);
}

void TestApp::checkConfigYamlSyntaxError()
{
    QVERIFY(writeFile(path(QStringLiteral("broken.yaml")), kSyntaxErrorConfig));
    Child *check =
        run({QStringLiteral("--check-config"), QStringLiteral("-c"), QStringLiteral("broken.yaml")});
    VERIFY_EXIT(check, 1);
    VERIFY_CONTAINS(check->errText(), QStringLiteral("broken.yaml:%1:").arg(kSyntaxErrorLine), check);
}

void TestApp::checkConfigUsesConfigPathEnvironment()
{
    QVERIFY(writeFile(path(QStringLiteral("env/good.yaml")), kValidConfig));
    QVERIFY(writeFile(path(QStringLiteral("env/bad.yaml")), kUnknownProviderConfig));

    Child *good = run({QStringLiteral("--check-config")},
                      environmentWith(QStringLiteral("CONFIG_PATH"), QStringLiteral("env/good.yaml")));
    VERIFY_EXIT(good, 0);
    VERIFY_CONTAINS(good->outText(), QStringLiteral("env/good.yaml"), good);

    Child *bad = run({QStringLiteral("--check-config")},
                     environmentWith(QStringLiteral("CONFIG_PATH"), QStringLiteral("env/bad.yaml")));
    VERIFY_EXIT(bad, 1);
    VERIFY_CONTAINS(bad->errText(), QStringLiteral("env/bad.yaml"), bad);
}

void TestApp::checkConfigOptionBeatsConfigPathEnvironment()
{
    QVERIFY(writeFile(path(QStringLiteral("good.yaml")), kValidConfig));
    QVERIFY(writeFile(path(QStringLiteral("bad.yaml")), kUnknownProviderConfig));
    const QProcessEnvironment env =
        environmentWith(QStringLiteral("CONFIG_PATH"), QStringLiteral("bad.yaml"));

    Child *good =
        run({QStringLiteral("--check-config"), QStringLiteral("-c"), QStringLiteral("good.yaml")}, env);
    VERIFY_EXIT(good, 0);
    VERIFY_CONTAINS(good->outText(), QStringLiteral("good.yaml"), good);

    // And the other way round, so neither file decides the outcome by itself.
    const QProcessEnvironment goodEnv =
        environmentWith(QStringLiteral("CONFIG_PATH"), QStringLiteral("good.yaml"));
    Child *bad =
        run({QStringLiteral("--check-config"), QStringLiteral("-c"), QStringLiteral("bad.yaml")}, goodEnv);
    VERIFY_EXIT(bad, 1);
    VERIFY_CONTAINS(bad->errText(), QStringLiteral("bad.yaml"), bad);
}

// --- 4. Linkage
// -----------------------------------------------------------------------------------------------------

void TestApp::doesNotLinkWidgets()
{
    const QString readelf = QStandardPaths::findExecutable(QStringLiteral("readelf"));
    QVERIFY2(!readelf.isEmpty(), "readelf not found: install binutils (scripts/test does)");
    QProcess process;
    // In a GUI build the headless twin of the program (built from the same sources without the GUI).
    process.start(readelf, {QStringLiteral("-d"), QStringLiteral(CHAIN_HEADLESS_BINARY)});
    QVERIFY2(process.waitForFinished(kRunTimeoutMs), qPrintable(process.errorString()));
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());

    QStringList needed;
    const QString dynamic = QString::fromUtf8(process.readAllStandardOutput());
    for (const QString &line : dynamic.split(QLatin1Char('\n'))) {
        if (line.contains(QLatin1String("(NEEDED)")))
            needed << line.section(QLatin1Char('['), 1).section(QLatin1Char(']'), 0, 0);
    }
    const QString list = needed.join(QLatin1String(", "));
    QVERIFY2(!needed.filter(QStringLiteral("Qt6HttpServer")).isEmpty(),
             qPrintable(QStringLiteral("NEEDED: ") + list));
    QVERIFY2(needed.filter(QStringLiteral("Widgets")).isEmpty(),
             qPrintable(QStringLiteral("NEEDED: ") + list));
}

// --- 5. Demo server
// -------------------------------------------------------------------------------------------------

void TestApp::portZeroIsAccepted()
{
    // "-p 0: the OS picks a free port". Checked without listening, so a failure here points at option
    // handling.
    Child *check = run({QStringLiteral("--check-config"), QStringLiteral("--demo"), QStringLiteral("-p"),
                        QStringLiteral("0")});
    VERIFY_EXIT(check, 0);
}

void TestApp::demoServesRequests()
{
    Child *proxy = start({QStringLiteral("--demo"), QStringLiteral("-p"), QStringLiteral("0")});
    const quint16 port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
    const QString root = QStringLiteral("http://127.0.0.1:%1").arg(port);
    const HttpClient::Headers demoAuth{{QByteArrayLiteral("Authorization"), "Bearer " + kDemoKey.toUtf8()}};

    const HttpClient::Response health =
        HttpClient::get(root + QStringLiteral("/health"), {}, kRequestTimeoutMs);
    QVERIFY2(health.status == 200,
             qPrintable(health.error + QLatin1Char(' ') + QString::fromUtf8(health.body)));
    QCOMPARE(health.json().value(QLatin1String("status")).toString(), QStringLiteral("ok"));

    const HttpClient::Response chat =
        HttpClient::post(root + QStringLiteral("/v1/chat/completions"),
                         HttpClient::chatBody(QStringLiteral("default"), false), demoAuth, kRequestTimeoutMs);
    QVERIFY2(chat.status == 200, qPrintable(chat.error + QLatin1Char(' ') + QString::fromUtf8(chat.body)));
    const QJsonArray choices = chat.json().value(QLatin1String("choices")).toArray();
    QVERIFY2(!choices.isEmpty(), chat.body.constData());
    QVERIFY(!choices.first()
                 .toObject()
                 .value(QLatin1String("message"))
                 .toObject()
                 .value(QLatin1String("content"))
                 .toString()
                 .isEmpty());
    QVERIFY2(!chat.header(QByteArrayLiteral("X-429chain-Provider")).isEmpty(), chat.body.constData());

    const HttpClient::Response wrongKey = HttpClient::post(
        root + QStringLiteral("/v1/chat/completions"), HttpClient::chatBody(QStringLiteral("default"), false),
        {{QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer sk-not-the-demo-key")}},
        kRequestTimeoutMs);
    QVERIFY2(wrongKey.status == 401,
             qPrintable(wrongKey.error + QLatin1Char(' ') + QString::fromUtf8(wrongKey.body)));

    VERIFY_OR_SHOW(proxy->running(), QStringLiteral("the proxy exited by itself"), proxy);
    proxy->process->terminate();
    VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
    VERIFY_EXIT(proxy, 0);
}

// --- 6. Graceful shutdown
// -------------------------------------------------------------------------------------------

void TestApp::shutdownLetsRunningStreamFinish()
{
    Child *proxy = start({QStringLiteral("--demo"), QStringLiteral("-p"), QStringLiteral("0")});
    const quint16 port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);

    QByteArray body;
    QByteArray bodyWhenSignalled;
    bool signalled = false;
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(port)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader(QByteArrayLiteral("Authorization"), "Bearer " + kDemoKey.toUtf8());
    QNetworkReply *reply = manager.post(request, HttpClient::chatBody(QStringLiteral("default"), true));
    connect(reply, &QNetworkReply::readyRead, reply, [&] {
        body += reply->readAll();
        if (!signalled && !body.isEmpty()) {
            signalled = true;
            bodyWhenSignalled = body;
            proxy->process->terminate();
        }
    });

    [[maybe_unused]] const bool finished =
        QTest::qWaitFor([&] { return reply->isFinished(); }, kRequestTimeoutMs);
    VERIFY_OR_SHOW(reply->isFinished(), QStringLiteral("the stream did not end"), proxy);
    body += reply->readAll();
    QVERIFY2(signalled, "no bytes of the stream arrived");
    // The demo streams a word every few tens of ms, so the signal lands mid-stream; otherwise this proves
    // nothing.
    QVERIFY2(!bodyWhenSignalled.contains("[DONE]"), "the whole stream arrived before SIGTERM could be sent");
    if (!body.contains("data: [DONE]") || reply->error() != QNetworkReply::NoError)
        qWarning().noquote() << "last bytes of the stream:" << body.right(400);
    VERIFY_OR_SHOW(body.contains("data: [DONE]"), QStringLiteral("the stream was cut short"), proxy);
    VERIFY_OR_SHOW(reply->error() == QNetworkReply::NoError, reply->errorString(), proxy);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);

    VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
    VERIFY_EXIT(proxy, 0);
}

// --- 7. Bad port values
// ---------------------------------------------------------------------------------------------

void TestApp::badPortEnvironment_data()
{
    QTest::addColumn<QStringList>("arguments");

    QTest::newRow("config file") << QStringList{QStringLiteral("-c"), QStringLiteral("good.yaml")};
    QTest::newRow("check-config") << QStringList{QStringLiteral("--check-config"), QStringLiteral("-c"),
                                                 QStringLiteral("good.yaml")};
    QTest::newRow("demo") << QStringList{QStringLiteral("--demo")};
}

void TestApp::badPortEnvironment()
{
    QFETCH(QStringList, arguments);
    QVERIFY(writeFile(path(QStringLiteral("good.yaml")), kValidConfig));
    Child *child = run(arguments, environmentWith(QStringLiteral("PORT"), QStringLiteral("abc")));
    VERIFY_EXIT(child, 1);
    const QString err = child->errText();
    VERIFY_CONTAINS(err, QStringLiteral("PORT"), child);
    VERIFY_CONTAINS(err, QStringLiteral("abc"), child);
}

void TestApp::badPortOption()
{
    // --check-config so that an ignored bad value ends in exit code 0 rather than a server that runs on.
    Child *child = run({QStringLiteral("--check-config"), QStringLiteral("--demo"), QStringLiteral("--port"),
                        QStringLiteral("abc")});
    VERIFY_OR_SHOW(!child->running() && child->process->exitStatus() == QProcess::NormalExit &&
                       child->process->exitCode() != 0,
                   QStringLiteral("expected a non-zero exit code"), child);
    const QString err = child->errText();
    VERIFY_CONTAINS(err, QStringLiteral("--port"), child);
    VERIFY_CONTAINS(err, QStringLiteral("abc"), child);
}

// --- 8. JSON logs
// ---------------------------------------------------------------------------------------------------

void TestApp::jsonLogFormat()
{
    Child *proxy = start({QStringLiteral("--demo"), QStringLiteral("-p"), QStringLiteral("0")},
                         environmentWith(QStringLiteral("LOG_FORMAT"), QStringLiteral("json")));
    const quint16 port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
    proxy->process->terminate();
    VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
    VERIFY_EXIT(proxy, 0);

    const QList<QByteArray> lines = proxy->err.split('\n');
    int objects = 0;
    bool sawListening = false;
    for (const QByteArray &line : lines) {
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(),
                 qPrintable(QStringLiteral("not a JSON object: ") + QString::fromUtf8(line)));
        const QJsonObject object = doc.object();
        for (const char *key : {"time", "level", "category", "msg"}) {
            QVERIFY2(object.value(QLatin1String(key)).isString(),
                     qPrintable(QStringLiteral("no string \"%1\" in ").arg(QLatin1String(key)) +
                                QString::fromUtf8(line)));
        }
        QVERIFY2(!object.value(QLatin1String("time")).toString().isEmpty(), line.constData());
        if (object.value(QLatin1String("msg")).toString().contains(QLatin1String("listening on"))) {
            sawListening = true;
            QCOMPARE(object.value(QLatin1String("level")).toString(), QStringLiteral("info"));
            QCOMPARE(object.value(QLatin1String("category")).toString(), QStringLiteral("chain.app"));
        }
        ++objects;
    }
    QVERIFY(objects > 0);
    QVERIFY(sawListening);
}

// --- 9. The request log survives a restart; an edited config is applied live
// ------------------------------------

void TestApp::restartKeepsRequestLogAndReloadsEdits()
{
    SimulatedProvider upstream;
    QVERIFY(upstream.listen());
    const QString configPath = path(QStringLiteral("config/config.yaml"));
    const QByteArray config = QByteArrayLiteral("version: 1\n"
                                                "settings:\n"
                                                "  apiKeys: [\"test-key\"]\n"
                                                "  defaultChain: default\n"
                                                "  dbPath: ./data/log.db\n"
                                                "providers:\n"
                                                "  - id: sim\n"
                                                "    name: Simulated\n"
                                                "    type: generic-openai\n"
                                                "    apiKey: \"\"\n"
                                                "    baseUrl: \"") +
                              upstream.baseUrl().toUtf8() +
                              QByteArrayLiteral("\"\n"
                                                "chains:\n"
                                                "  - name: default\n"
                                                "    entries:\n"
                                                "      - provider: sim\n"
                                                "        model: m1\n");
    QVERIFY(writeFile(configPath, config));
    const HttpClient::Headers auth{
        {QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key")}};

    for (int run = 1; run <= 2; ++run) {
        Child *proxy = start({QStringLiteral("-c"), configPath, QStringLiteral("-p"), QStringLiteral("0")});
        const quint16 port = proxy->waitForListening();
        VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
        const QString root = QStringLiteral("http://127.0.0.1:%1").arg(port);
        const auto chat =
            HttpClient::post(root + QStringLiteral("/v1/chat/completions"),
                             HttpClient::chatBody(QStringLiteral("default"), false), auth, kRequestTimeoutMs);
        QCOMPARE(chat.status, 200);
        const auto summary =
            HttpClient::get(root + QStringLiteral("/v1/stats/summary"), auth, kRequestTimeoutMs);
        QCOMPARE(summary.status, 200);
        // The request just served may still be on its way to the disk; the earlier run's must be there.
        const qint64 total = summary.json()
                                 .value(QLatin1String("summary"))
                                 .toObject()
                                 .value(QLatin1String("totalRequests"))
                                 .toInteger();
        QVERIFY2(total >= run - 1 && total <= run, summary.body.constData());

        if (run == 2) {
            // A new chain written to the file is routable without a restart.
            QVERIFY(writeFile(configPath, config + QByteArrayLiteral("  - name: added\n"
                                                                     "    entries:\n"
                                                                     "      - provider: sim\n"
                                                                     "        model: m2\n")));
            QTRY_VERIFY_WITH_TIMEOUT(HttpClient::post(root + QStringLiteral("/v1/chat/completions"),
                                                      HttpClient::chatBody(QStringLiteral("added"), false),
                                                      auth, kRequestTimeoutMs)
                                             .header("X-429chain-Provider") == "sim/m2",
                                     15000);
        }
        proxy->process->terminate();
        VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
        VERIFY_EXIT(proxy, 0);
    }
    // After a clean shutdown every request is on disk: two runs, one request each, plus the reload check's.
    Child *proxy = start({QStringLiteral("-c"), configPath, QStringLiteral("-p"), QStringLiteral("0")});
    const quint16 port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
    const auto requests = HttpClient::get(QStringLiteral("http://127.0.0.1:%1/v1/stats/requests").arg(port),
                                          auth, kRequestTimeoutMs);
    QCOMPARE(requests.status, 200);
    QVERIFY2(requests.json().value(QLatin1String("requests")).toArray().size() >= 3,
             requests.body.constData());
    proxy->process->terminate();
    QVERIFY(proxy->waitForExit());
}

// A request still running when the grace period ends is answered (503 shutting_down) and on disk after a
// restart.
void TestApp::shutdownEndsHangingRequestAndRecordsIt()
{
    SimulatedProvider upstream;
    QVERIFY(upstream.listen());
    upstream.setDefaultStep(SimulatedProvider::Step::of(SimulatedProvider::Step::Kind::Hang));
    const QString configPath = path(QStringLiteral("config.yaml"));
    const QByteArray config = QByteArrayLiteral("version: 1\n"
                                                "settings:\n"
                                                "  apiKeys: [\"test-key\"]\n"
                                                "  defaultChain: default\n"
                                                "  dbPath: ./data/log.db\n"
                                                "providers:\n"
                                                "  - id: sim\n"
                                                "    name: Simulated\n"
                                                "    type: generic-openai\n"
                                                "    apiKey: \"\"\n"
                                                "    baseUrl: \"") +
                              upstream.baseUrl().toUtf8() +
                              QByteArrayLiteral("\"\n"
                                                "chains:\n"
                                                "  - name: default\n"
                                                "    entries:\n"
                                                "      - provider: sim\n"
                                                "        model: m1\n");
    QVERIFY(writeFile(configPath, config));
    const HttpClient::Headers auth{
        {QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key")}};

    Child *proxy = start({QStringLiteral("-c"), configPath, QStringLiteral("-p"), QStringLiteral("0")});
    quint16 port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);

    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(port)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key"));
    QNetworkReply *reply = manager.post(request, HttpClient::chatBody(QStringLiteral("default"), false));
    QTRY_COMPARE_WITH_TIMEOUT(upstream.requestCount(), 1, kRequestTimeoutMs); // in flight, hanging upstream

    QElapsedTimer sinceSignal;
    sinceSignal.start();
    proxy->process->terminate();
    [[maybe_unused]] const bool finished =
        QTest::qWaitFor([&] { return reply->isFinished(); }, kRequestTimeoutMs);
    VERIFY_OR_SHOW(reply->isFinished(), QStringLiteral("no answer after SIGTERM"), proxy);
    QVERIFY2(sinceSignal.elapsed() < 5000 + 2000 + 1000, qPrintable(QString::number(sinceSignal.elapsed())));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 503);
    const QJsonObject error =
        QJsonDocument::fromJson(reply->readAll()).object().value(QLatin1String("error")).toObject();
    QCOMPARE(error.value(QLatin1String("code")).toString(), QStringLiteral("shutting_down"));
    reply->deleteLater();
    VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
    VERIFY_EXIT(proxy, 0);

    proxy = start({QStringLiteral("-c"), configPath, QStringLiteral("-p"), QStringLiteral("0")});
    port = proxy->waitForListening();
    VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
    const auto requests = HttpClient::get(QStringLiteral("http://127.0.0.1:%1/v1/stats/requests").arg(port),
                                          auth, kRequestTimeoutMs);
    QCOMPARE(requests.status, 200);
    const QJsonArray rows = requests.json().value(QLatin1String("requests")).toArray();
    QVERIFY2(rows.size() == 1, requests.body.constData());
    QCOMPARE(rows.first().toObject().value(QLatin1String("httpStatus")).toInt(), 503);
    QCOMPARE(rows.first().toObject().value(QLatin1String("totalTokens")).toInt(), 0);
    proxy->process->terminate();
    QVERIFY(proxy->waitForExit());
}

// --- 10. The tracker's knowledge survives a restart: a known-empty entry is not asked again ----------------

void TestApp::restartKeepsKnownExhaustedEntries()
{
    SimulatedProvider upstream;
    QVERIFY(upstream.listen());
    upstream.setDefaultStep(SimulatedProvider::Step::rateLimited(3600)); // 429, Retry-After: an hour
    const QString configPath = path(QStringLiteral("config.yaml"));
    const QByteArray config = QByteArrayLiteral("version: 1\n"
                                                "settings:\n"
                                                "  apiKeys: [\"test-key\"]\n"
                                                "  defaultChain: default\n"
                                                "  dbPath: ./data/limits.db\n"
                                                "providers:\n"
                                                "  - id: sim\n"
                                                "    name: Simulated\n"
                                                "    type: generic-openai\n"
                                                "    apiKey: \"\"\n"
                                                "    baseUrl: \"") +
                              upstream.baseUrl().toUtf8() +
                              QByteArrayLiteral("\"\n"
                                                "chains:\n"
                                                "  - name: default\n"
                                                "    entries:\n"
                                                "      - provider: sim\n"
                                                "        model: m1\n");
    QVERIFY(writeFile(configPath, config));
    const HttpClient::Headers auth{
        {QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key")}};

    for (int run = 1; run <= 2; ++run) {
        Child *proxy = start({QStringLiteral("-c"), configPath, QStringLiteral("-p"), QStringLiteral("0")});
        const quint16 port = proxy->waitForListening();
        VERIFY_OR_SHOW(port != 0, QStringLiteral("no \"listening on\" line"), proxy);
        const QString root = QStringLiteral("http://127.0.0.1:%1").arg(port);
        const auto chat =
            HttpClient::post(root + QStringLiteral("/v1/chat/completions"),
                             HttpClient::chatBody(QStringLiteral("default"), false), auth, kRequestTimeoutMs);
        VERIFY_OR_SHOW(
            chat.status >= 400,
            QStringLiteral("run %1: the only entry is rate limited, got %2").arg(run).arg(chat.status),
            proxy);
        // Run 1 asked the upstream and got its 429; run 2 knew better than to ask.
        VERIFY_OR_SHOW(
            upstream.requestCount() == 1,
            QStringLiteral("run %1: the upstream saw %2 requests").arg(run).arg(upstream.requestCount()),
            proxy);

        const auto limits = HttpClient::get(root + QStringLiteral("/v1/ratelimits"), auth, kRequestTimeoutMs);
        QCOMPARE(limits.status, 200);
        const QJsonArray pairs = limits.json().value(QLatin1String("ratelimits")).toArray();
        QVERIFY2(pairs.size() == 1, limits.body.constData());
        const QJsonObject pair = pairs.at(0).toObject();
        QCOMPARE(pair.value(QLatin1String("provider")).toString(), QStringLiteral("sim"));
        QCOMPARE(pair.value(QLatin1String("model")).toString(), QStringLiteral("m1"));
        QCOMPARE(pair.value(QLatin1String("status")).toString(), QStringLiteral("exhausted"));
        const qint64 until = pair.value(QLatin1String("cooldownUntil")).toInteger();
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        QVERIFY2(until > now + 3000 * 1000 && until <= now + 3600 * 1000, limits.body.constData());
        QVERIFY2(limits.json().value(QLatin1String("activeEntries")).toArray().isEmpty(),
                 limits.body.constData());

        proxy->process->terminate();
        VERIFY_OR_SHOW(proxy->waitForExit(), QStringLiteral("did not exit after SIGTERM"), proxy);
        VERIFY_EXIT(proxy, 0);
    }
}

QTEST_GUILESS_MAIN(TestApp)
#include "tst_app.moc"
