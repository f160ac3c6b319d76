// Security rules of the HTTP face: which routes need a key (every /v1/*, walked from the route table),
// separate admin keys, provider keys that never leak (answers, logs, the event log, error messages, the
// request log), an owner-only config file, the Host check (DNS rebinding), CORS only for configured
// origins, and no listening beyond loopback without keys.

#include "apiserver.h"
#include "configloader.h"
#include "configpaths.h"
#include "configwriter.h"
#include "faultserver.h"
#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMetaEnum>
#include <QMutex>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using Step = SimulatedProvider::Step;

namespace {
QMutex g_logMutex;
QStringList g_log;
QtMessageHandler g_previousHandler = nullptr;

void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&g_logMutex);
        g_log << QString::fromLatin1(context.category ? context.category : "") + QLatin1Char(' ') + message;
    }
    if (g_previousHandler)
        g_previousHandler(type, context, message);
}

QString methodName(RouteTable::Method method)
{
    return QString::fromLatin1(QMetaEnum::fromType<RouteTable::Method>().valueToKey(int(method))).toUpper();
}

QByteArray rawRequest(const QByteArray &method, const QByteArray &path, const QByteArray &host,
                      const QByteArray &extraHeaders = {})
{
    return method + ' ' + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders +
           "Connection: close\r\nContent-Length: 0\r\n\r\n";
}

int statusOf(const QByteArray &raw)
{
    return raw.mid(9, 3).toInt();
}
} // namespace

class TestSecurity : public QObject
{
    Q_OBJECT

private slots:
    void everyRouteNeedsTheKeyItDeclares()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        h.config().settings.adminKeys = {QStringLiteral("admin-key")};
        QVERIFY(h.start());
        const auto &routes = h.server().routes().all();
        QVERIFY(routes.size() > 20);
        int v1Routes = 0;
        for (const auto &route : routes) {
            const QString path = QLatin1Char('/') + route.segments.join(QLatin1Char('/'));
            QString concrete = path;
            concrete.replace(QRegularExpression(QStringLiteral(":[A-Za-z]+")), QStringLiteral("x"));
            const QString name = methodName(route.method) + QLatin1Char(' ') + path;
            const bool v1 = path == QLatin1String("/v1") || path.startsWith(QLatin1String("/v1/"));
            if (v1) {
                ++v1Routes;
                QVERIFY2(route.access != RouteTable::Access::Public,
                         qPrintable(name + QLatin1String(" is public")));
            } else {
                // Outside /v1: /health, the web UI's files and /metrics (which checks keys itself when not
                // on loopback) are public.
                QVERIFY2(route.access == RouteTable::Access::Public,
                         qPrintable(name + QLatin1String(" needs a key")));
            }
            const QByteArray method = methodName(route.method).toLatin1();
            for (const QByteArray &auth : {QByteArray(), QByteArray("Authorization: Bearer wrong\r\n"),
                                           QByteArray("x-api-key: test-ke\r\n")}) {
                const QByteArray answer =
                    HttpClient::raw(h.port(), rawRequest(method, concrete.toUtf8(), "127.0.0.1", auth), 5000);
                if (route.access == RouteTable::Access::Public)
                    QVERIFY2(statusOf(answer) != 401, qPrintable(name));
                else
                    // OpenAI's code, or Anthropic's error type on the Anthropic routes (/v1/messages…).
                    QVERIFY2(statusOf(answer) == 401 &&
                                 answer.contains(concrete.startsWith(QLatin1String("/v1/messages"))
                                                     ? "\"authentication_error\""
                                                     : "invalid_api_key"),
                             qPrintable(name + QLatin1String(": ") + QString::fromLatin1(answer.left(200))));
            }
            if (route.access == RouteTable::Access::Admin) {
                // A proxy key does not open the admin API once admin keys are configured; the handler never
                // runs, so walking the mutating routes changes nothing.
                const QByteArray answer = HttpClient::raw(
                    h.port(),
                    rawRequest(method, concrete.toUtf8(), "127.0.0.1", "Authorization: Bearer test-key\r\n"),
                    5000);
                QVERIFY2(statusOf(answer) == 403 && answer.contains("admin_key_required"), qPrintable(name));
            }
        }
        QVERIFY(v1Routes >= 15);
        // The admin key opens the admin API and the proxy routes.
        QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/admin/config")),
                                 {{"Authorization", "Bearer admin-key"}})
                     .status,
                 200);
        QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/models")), {{"Authorization", "Bearer admin-key"}})
                     .status,
                 200);
        // Unknown /v1 paths need a key too: no route is revealed to a stranger.
        QCOMPARE(statusOf(HttpClient::raw(h.port(), rawRequest("GET", "/v1/secret-thing", "localhost"))),
                 401);
        QCOMPARE(statusOf(HttpClient::raw(h.port(), rawRequest("GET", "/health", "localhost"))), 200);
        QCOMPARE(statusOf(HttpClient::raw(h.port(), rawRequest("GET", "/", "localhost"))), 200);
    }

    void providerKeysNeverLeak()
    {
        g_log.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("chain.*=true"));
        g_previousHandler = qInstallMessageHandler(captureMessage);

        const QStringList secrets{QStringLiteral("sk-secret-alpha-7f3a9c"),
                                  QStringLiteral("sk-secret-beta-81d2e0"),
                                  QStringLiteral("sk-secret-gamma-55b1f4")};
        SimulatedProvider alpha; // wants another key: answers 401
        SimulatedProvider beta;  // echoes the key it got in a 400 error body
        SimulatedProvider gamma; // serves
        QVERIFY(alpha.listen() && beta.listen() && gamma.listen());
        alpha.setRequiredApiKey(QStringLiteral("a-different-key"));
        gamma.setRequiredApiKey(secrets.at(2));
        ProxyHarness h;
        h.addProvider(QStringLiteral("alpha"), &alpha);
        h.addProvider(QStringLiteral("beta"), &beta);
        h.addProvider(QStringLiteral("gamma"), &gamma);
        for (int i = 0; i < 3; ++i)
            h.config().providers[i].apiKey = secrets.at(i);
        h.addChain(QStringLiteral("default"),
                   {QStringLiteral("alpha/a"), QStringLiteral("beta/b"), QStringLiteral("gamma/g")});
        h.addChain(QStringLiteral("failing"), {QStringLiteral("alpha/a"), QStringLiteral("beta/b")});
        QVERIFY(h.start());
        const QByteArray echo = "{\"error\":{\"message\":\"Invalid request for key " +
                                secrets.at(1).toUtf8() + " (Bearer " + secrets.at(1).toUtf8() +
                                ")\",\"type\":\"invalid_request_error\"}}";

        QByteArray captured;
        const auto keep = [&](const HttpClient::Response &r) {
            captured += QByteArray::number(r.status) + '\n' + r.body + '\n';
            for (const auto &header : r.headers)
                captured += header.first + ": " + header.second + '\n';
        };
        const QString chat = h.url(QStringLiteral("/v1/chat/completions"));
        beta.setDefaultStep(Step::status(400, echo));
        keep(HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("default"), false)));
        keep(HttpClient::stream(chat, HttpClient::chatBody(QStringLiteral("default"), true)));
        const auto failed = HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("failing"), false));
        QVERIFY(failed.status >= 400);
        keep(failed);
        const auto failedStream =
            HttpClient::stream(chat, HttpClient::chatBody(QStringLiteral("failing"), true));
        keep(failedStream);
        for (const auto &e : failedStream.events)
            captured += e.data + '\n';
        for (const char *path : {"/v1/admin/config", "/v1/models", "/v1/ratelimits", "/v1/events", "/metrics",
                                 "/v1/stats/requests", "/v1/admin/settings", "/health"})
            keep(HttpClient::get(h.url(QString::fromLatin1(path))));
        keep(HttpClient::post(h.url(QStringLiteral("/v1/test/chain/default")), "{}"));
        keep(HttpClient::post(h.url(QStringLiteral("/v1/test/chain/failing")), "{}"));
        keep(HttpClient::get(h.url(QStringLiteral("/v1/admin/providers/beta/models"))));
        // A bad admin write names the problem, never the key.
        const QByteArray badWrite =
            "{\"name\":\"b\",\"type\":\"nope\",\"apiKey\":\"" + secrets.at(1).toUtf8() + "\"}";
        captured += HttpClient::raw(
            h.port(), "PUT /v1/admin/providers/beta HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                      "Bearer test-key\r\nConnection: close\r\nContent-Type: application/json\r\n"
                      "Content-Length: " +
                          QByteArray::number(badWrite.size()) + "\r\n\r\n" + badWrite);
        QTRY_COMPARE(h.records.size(), 4); // the chat requests; chain tests are not logged

        for (const RequestRecord &r : h.records) {
            captured += r.error.toUtf8() + '\n';
            for (const auto &a : r.attempts)
                captured += a.reason.toUtf8() + '\n';
        }
        for (const auto &e : h.service().events().recent(0, 1000))
            captured += e.message.toUtf8() + '\n';
        qInstallMessageHandler(g_previousHandler);
        QLoggingCategory::setFilterRules(QString());
        {
            QMutexLocker lock(&g_logMutex);
            captured += g_log.join(QLatin1Char('\n')).toUtf8();
        }
        QVERIFY(captured.size() > 2000);     // the capture saw real traffic
        QVERIFY(captured.contains("gamma")); // and real names
        for (const QString &secret : secrets)
            QVERIFY2(!captured.contains(secret.toUtf8()),
                     qPrintable(secret + QLatin1String(" leaked near: ") +
                                QString::fromUtf8(captured.mid(
                                    qMax<qsizetype>(0, captured.indexOf(secret.toUtf8()) - 200), 300))));
        // The part after "sk-" is not there either, in any case.
        for (const QString &secret : secrets)
            QVERIFY(!captured.toLower().contains(secret.mid(3).toLower().toUtf8()));
    }

    void configFileIsOwnerOnly()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.yaml"));
        const mode_t previous = umask(022);
        Config config;
        config.settings.apiKeys = {QStringLiteral("k")};
        config.settings.defaultChain = QStringLiteral("d");
        ProviderConfig p;
        p.id = QStringLiteral("p");
        p.name = QStringLiteral("p");
        p.type = QStringLiteral("groq");
        p.apiKey = QStringLiteral("sk-secret");
        config.providers.append(p);
        config.chains.append(ChainConfig{QStringLiteral("d"),
                                         {{QStringLiteral("p"), QStringLiteral("m"), 0, std::nullopt}},
                                         0,
                                         std::nullopt});
        QString error;
        QVERIFY2(ConfigWriter::write(config, path, &error), qPrintable(error));
        QVERIFY2(ConfigWriter::write(config, path, &error), qPrintable(error)); // again: a .bak appears
        umask(previous);
        for (const QString &file : QStringList{path, path + QStringLiteral(".bak")}) {
            struct stat st
            {
            };
            QVERIFY2(::stat(QFile::encodeName(file).constData(), &st) == 0, qPrintable(file));
            QCOMPARE(int(st.st_mode & 0777), 0600);
        }
    }

    void hostHeaderIsChecked_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("127.0.0.1:port") << QByteArray("127.0.0.1:3429") << true;
        QTest::newRow("localhost") << QByteArray("localhost") << true;
        QTest::newRow("LOCALHOST:80") << QByteArray("LOCALHOST:80") << true;
        QTest::newRow("app.localhost") << QByteArray("app.localhost:1") << true;
        QTest::newRow("[::1]:port") << QByteArray("[::1]:3429") << true;
        QTest::newRow("LAN address") << QByteArray("192.168.1.20:3429") << true;
        QTest::newRow("configured name") << QByteArray("proxy.example.com:3429") << true;
        QTest::newRow("configured domain") << QByteArray("a.b.corp.example") << true;
        QTest::newRow("domain itself") << QByteArray("corp.example.") << true;
        QTest::newRow("rebinding attacker") << QByteArray("attacker.example") << false;
        QTest::newRow("lookalike suffix") << QByteArray("evilcorp.example") << false;
        QTest::newRow("localhost lookalike") << QByteArray("localhost.attacker.example") << false;
        QTest::newRow("unclosed bracket") << QByteArray("[::1") << false;
    }

    void hostHeaderIsChecked()
    {
        QFETCH(QByteArray, host);
        QFETCH(bool, allowed);
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        h.config().settings.allowedHosts = {QStringLiteral("proxy.example.com"),
                                            QStringLiteral(".corp.example")};
        QVERIFY(h.start());
        for (const QByteArray &path : {QByteArray("/health"), QByteArray("/"), QByteArray("/v1/models")}) {
            const QByteArray answer = HttpClient::raw(
                h.port(), rawRequest("GET", path, host, "Authorization: Bearer test-key\r\n"), 5000);
            if (allowed) {
                QCOMPARE(statusOf(answer), 200);
            } else {
                QCOMPARE(statusOf(answer), 403);
                QVERIFY(answer.contains("host_not_allowed"));
            }
        }
    }

    void corsOnlyForConfiguredOrigins()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        QVERIFY(h.start());
        const QByteArray preflight = "Origin: http://app.example\r\nAccess-Control-Request-Method: POST\r\n"
                                     "Access-Control-Request-Headers: authorization, content-type\r\n";
        // Nothing configured: no CORS headers, and preflights are refused.
        QByteArray answer =
            HttpClient::raw(h.port(), rawRequest("OPTIONS", "/v1/chat/completions", "localhost", preflight));
        QCOMPARE(statusOf(answer), 403);
        QVERIFY(answer.contains("origin_not_allowed"));
        QVERIFY(!answer.toLower().contains("access-control-allow-origin"));
        answer = HttpClient::raw(
            h.port(), rawRequest("GET", "/v1/models", "localhost",
                                 "Origin: http://app.example\r\nAuthorization: Bearer test-key\r\n"));
        QCOMPARE(statusOf(answer), 200);
        QVERIFY(!answer.toLower().contains("access-control-allow-origin"));

        // Configured: the listed origin gets them, on the preflight (no key needed), answers and streams.
        Config config = *h.service().config();
        config.settings.corsOrigins = {QStringLiteral("http://app.example/")};
        h.service().setConfig(config);
        answer =
            HttpClient::raw(h.port(), rawRequest("OPTIONS", "/v1/chat/completions", "localhost", preflight));
        QCOMPARE(statusOf(answer), 204);
        QVERIFY(answer.contains("Access-Control-Allow-Origin: http://app.example\r\n"));
        QVERIFY(answer.contains("Access-Control-Allow-Methods: "));
        QVERIFY(answer.toLower().contains("access-control-allow-headers: authorization, content-type"));
        const auto r =
            HttpClient::get(h.url(QStringLiteral("/v1/models")), {{"Origin", "http://app.example"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Access-Control-Allow-Origin"), QByteArray("http://app.example"));
        QVERIFY(r.header("Access-Control-Expose-Headers").contains("X-429chain-Provider"));
        const auto s = HttpClient::stream(h.url(QStringLiteral("/v1/chat/completions")),
                                          HttpClient::chatBody(QStringLiteral("default"), true),
                                          {{"Origin", "http://app.example"}});
        QVERIFY(s.sawDone());
        QCOMPARE(s.header("Access-Control-Allow-Origin"), QByteArray("http://app.example"));
        // Another origin still gets nothing, and a preflight from it is refused.
        const auto other =
            HttpClient::get(h.url(QStringLiteral("/v1/models")), {{"Origin", "http://evil.example"}});
        QCOMPARE(other.status, 200);
        QVERIFY(other.header("Access-Control-Allow-Origin").isEmpty());
        answer = HttpClient::raw(
            h.port(), rawRequest("OPTIONS", "/v1/models", "localhost",
                                 "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n"));
        QCOMPARE(statusOf(answer), 403);
        // Keys are still required on the real request.
        QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/models")),
                                 {{"Origin", "http://app.example"}, {"Authorization", ""}})
                     .status,
                 401);
    }

    void noNonLoopbackListenWithoutKeys()
    {
        // The server refuses by itself, whatever config it was given.
        Config config;
        config.settings.defaultChain = QStringLiteral("d");
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ManualClock clock;
        ProxyService service(config, clock);
        ApiServer server(service);
        QString error;
        QVERIFY(!server.listen(QHostAddress::Any, 0, &error));
        QVERIFY2(error.contains(QLatin1String("without settings.apiKeys")), qPrintable(error));
        QVERIFY2(server.listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));

        // Config validation and the HOST / --host overrides say so too.
        const QByteArray yaml = "version: 1\nsettings:\n  host: 0.0.0.0\n  apiKeys: []\n  defaultChain: d\n"
                                "providers:\n  - {id: p, name: P, type: groq, apiKey: x}\n"
                                "chains:\n  - {name: d, entries: [{provider: p, model: m}]}\n";
        const ConfigLoadResult loaded = ConfigLoader::loadString(yaml, QStringLiteral("c.yaml"));
        QVERIFY(!loaded.ok());
        QVERIFY2(loaded.errors.join(QLatin1Char('\n')).contains(QLatin1String("settings.host")),
                 qPrintable(loaded.errors.join(QLatin1Char('\n'))));
        Config noKeys;
        CommandLineOverrides cli;
        cli.host = QStringLiteral("0.0.0.0");
        const QStringList errors = ConfigPaths::applyOverrides(
            noKeys, cli, [](const QString &) { return std::optional<QString>(); });
        QVERIFY(!errors.isEmpty());
        QVERIFY(errors.join(QLatin1Char(' ')).contains(QLatin1String("refusing to listen on 0.0.0.0")));

        // The real binary: --check-config and a start both refuse, with the reason.
        QTemporaryDir dir;
        QFile file(dir.filePath(QStringLiteral("config.yaml")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(yaml);
        file.close();
        for (const QStringList &args : {QStringList{QStringLiteral("--check-config")}, QStringList{}}) {
            QProcess p;
            p.setProcessChannelMode(QProcess::MergedChannels);
            p.start(QStringLiteral(CHAIN_BINARY),
                    QStringList{QStringLiteral("--headless"), QStringLiteral("-c"), file.fileName(),
                                QStringLiteral("-p"), QStringLiteral("0")} +
                        args);
            QVERIFY(p.waitForFinished(30000));
            QCOMPARE(p.exitCode(), 1);
            QVERIFY2(p.readAll().contains("settings.host"), "no reason given");
        }
    }
};

QTEST_MAIN(TestSecurity)
#include "tst_security.moc"
