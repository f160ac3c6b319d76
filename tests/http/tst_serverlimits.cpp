// Integration: what the HTTP front does before any routing: auth, validation, size limits, connection rules.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QtTest>

class TestServerLimits : public QObject
{
    Q_OBJECT

private:
    SimulatedProvider m_sim;
    ProxyHarness *m_harness = nullptr;

    QString url(const QString &path) const { return m_harness->url(path); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_sim.listen());
        m_harness = new ProxyHarness;
        m_harness->addProvider(QStringLiteral("a"), &m_sim);
        m_harness->addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        m_harness->config().settings.maxRequestBytes = 4096;
        m_harness->config().settings.apiKeys = {QStringLiteral("test-key"), QStringLiteral("second-key")};
        QVERIFY(m_harness->start());
    }

    void cleanupTestCase() { delete m_harness; }

    void authRequiredOnEveryV1Route_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("path");
        QTest::newRow("chat") << "POST"
                              << "/v1/chat/completions";
        QTest::newRow("models") << "GET"
                                << "/v1/models";
        QTest::newRow("unknown v1 route") << "GET"
                                          << "/v1/nothing-here";
        QTest::newRow("v1 root") << "GET"
                                 << "/v1";
    }

    void authRequiredOnEveryV1Route()
    {
        QFETCH(QString, method);
        QFETCH(QString, path);
        const HttpClient::Headers noKey{{"Authorization", ""}};
        const HttpClient::Headers wrongKey{{"Authorization", "Bearer wrong"}};
        const HttpClient::Headers prefixKey{{"Authorization", "Bearer test-ke"}};
        for (const auto &headers : {noKey, wrongKey, prefixKey}) {
            const auto r =
                method == QLatin1String("POST")
                    ? HttpClient::post(url(path), HttpClient::chatBody(QStringLiteral("default"), false),
                                       headers)
                    : HttpClient::get(url(path), headers);
            QCOMPARE(r.status, 401);
            QCOMPARE(
                r.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
                QStringLiteral("invalid_api_key"));
        }
    }

    void acceptsBearerAndXApiKey()
    {
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/models")), {{"Authorization", "Bearer second-key"}})
                     .status,
                 200);
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/models")), {{"x-api-key", "test-key"}}).status, 200);
    }

    void healthIsPublic()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/health")), {{"Authorization", ""}});
        QCOMPARE(r.status, 200);
        const QJsonObject h = r.json();
        QCOMPARE(h.value(QLatin1String("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(h.value(QLatin1String("providers")).toInt(), 1);
        QCOMPARE(h.value(QLatin1String("chains")).toInt(), 1);
        QVERIFY(h.contains(QLatin1String("version")) && h.contains(QLatin1String("uptime")));
    }

    void badBodiesAre400_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("param");
        QTest::newRow("not json") << QByteArray("{not json") << QString();
        QTest::newRow("empty") << QByteArray("") << QString();
        QTest::newRow("array") << QByteArray("[1,2]") << QString();
        QTest::newRow("no messages") << QByteArray(R"({"model":"default"})") << QStringLiteral("messages");
        QTest::newRow("messages not array")
            << QByteArray(R"({"messages":"hi"})") << QStringLiteral("messages");
        QTest::newRow("empty messages") << QByteArray(R"({"messages":[]})") << QStringLiteral("messages");
        QTest::newRow("message without role")
            << QByteArray(R"({"messages":[{"content":"x"}]})") << QStringLiteral("messages[0].role");
        QTest::newRow("stream not bool")
            << QByteArray(R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})")
            << QStringLiteral("stream");
        QTest::newRow("model not string")
            << QByteArray(R"({"model":5,"messages":[{"role":"user","content":"x"}]})")
            << QStringLiteral("model");
    }

    void badBodiesAre400()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, param);
        const int before = m_sim.requestCount();
        const auto r = HttpClient::post(url(QStringLiteral("/v1/chat/completions")), body);
        QCOMPARE(r.status, 400);
        const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("type")).toString(), QStringLiteral("invalid_request_error"));
        QVERIFY(!error.value(QLatin1String("message")).toString().isEmpty());
        if (!param.isEmpty())
            QCOMPARE(error.value(QLatin1String("param")).toString(), param);
        QCOMPARE(m_sim.requestCount(), before); // nothing went upstream
    }

    void oversizedBodyIs413()
    {
        const QByteArray big =
            HttpClient::chatBody(QStringLiteral("default"), false, QString(8000, QLatin1Char('x')));
        const auto r = HttpClient::post(url(QStringLiteral("/v1/chat/completions")), big);
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
                 QStringLiteral("request_too_large"));
    }

    void oversizedBodyRefusedBeforeItIsSentWithExpect()
    {
        const QByteArray head =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-key\r\n"
            "Content-Type: application/json\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n";
        const QByteArray answer = HttpClient::raw(m_harness->port(), head);
        QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.constData());
    }

    void expectContinueIsAnswered()
    {
        const QByteArray body = HttpClient::chatBody(QStringLiteral("default"), false);
        const QByteArray head =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-key\r\n"
            "Content-Type: application/json\r\nConnection: close\r\nExpect: "
            "100-continue\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n";
        // Send only the head; the body follows once 100 Continue arrives.
        QTcpSocket socket;
        QByteArray received;
        QEventLoop loop;
        connect(&socket, &QTcpSocket::connected, &loop, [&] { socket.write(head); });
        connect(&socket, &QTcpSocket::readyRead, &loop, [&] {
            const bool first = received.isEmpty();
            received += socket.readAll();
            if (first && received.startsWith("HTTP/1.1 100 Continue\r\n\r\n"))
                socket.write(body);
        });
        connect(&socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        socket.connectToHost(QHostAddress::LocalHost, m_harness->port());
        loop.exec();
        QVERIFY2(received.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"),
                 received.left(200).constData());
    }

    void hugeHeaderIs431()
    {
        const QByteArray head =
            "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + QByteArray(100 * 1024, 'a') + "\r\n\r\n";
        QVERIFY(HttpClient::raw(m_harness->port(), head).startsWith("HTTP/1.1 431"));
    }

    void tooManyHeaderFieldsIs431()
    {
        QByteArray head = "GET /health HTTP/1.1\r\nHost: localhost\r\n";
        for (int i = 0; i < 150; ++i)
            head += "X-H" + QByteArray::number(i) + ": v\r\n";
        QVERIFY(HttpClient::raw(m_harness->port(), head + "\r\n").startsWith("HTTP/1.1 431"));
    }

    void chunkedUploadIs411AndGarbageIs400()
    {
        QVERIFY(HttpClient::raw(m_harness->port(),
                                "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
                                "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                    .startsWith("HTTP/1.1 411"));
        QVERIFY(HttpClient::raw(m_harness->port(), "HELLO THERE\r\n\r\n").startsWith("HTTP/1.1 400"));
    }

    void connectionCloseAndHttp10AreHonoured()
    {
        // raw() returns when the server closes: a hang here would time out with an empty result.
        const QByteArray a = HttpClient::raw(
            m_harness->port(), "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 8000);
        QVERIFY2(a.startsWith("HTTP/1.1 200") && a.contains("Connection: close"), a.constData());
        const QByteArray b = HttpClient::raw(m_harness->port(), "GET /health HTTP/1.0\r\n\r\n", 8000);
        QVERIFY2(b.contains(" 200 ") && b.contains("\"status\":\"ok\""), b.constData());
    }

    void unknownRouteIs404Json()
    {
        // A GET of an unknown non-API path is a web UI route (tst_staticroutes); other methods get JSON.
        const auto r = HttpClient::post(url(QStringLiteral("/nope")), QByteArrayLiteral("{}"));
        QCOMPARE(r.status, 404);
        QVERIFY(r.json().value(QLatin1String("error")).isObject());
        const auto wrongMethod = HttpClient::get(url(QStringLiteral("/v1/chat/completions")));
        QCOMPARE(wrongMethod.status, 405);
    }

    void idleConnectionIsClosed()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        h.limits.idleTimeoutMs = 300;
        QVERIFY(h.start());
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, h.port());
        QTRY_COMPARE(silent.state(), QAbstractSocket::ConnectedState);
        QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, 10000);
        // A half-sent request head (slowloris) is closed the same way.
        QTcpSocket slow;
        connect(&slow, &QTcpSocket::connected, this,
                [&] { slow.write("GET /health HTTP/1.1\r\nHost: localhost\r\n"); });
        slow.connectToHost(QHostAddress::LocalHost, h.port());
        QTRY_COMPARE_WITH_TIMEOUT(slow.state(), QAbstractSocket::UnconnectedState, 10000);
    }

    void pathParametersAreDecodedOnce()
    {
        m_harness->server().routes().add(
            RouteTable::Method::Get, QStringLiteral("/v1/echo/:name"), RouteTable::Access::ApiKey,
            [](const RouteContext &c, QHttpServerResponder &&r) {
                ApiServer::sendJson(std::move(r), 200, c.params.value(QStringLiteral("name")).toUtf8());
            });
        // QNetworkAccessManager would normalize the URL: send the bytes as a client may.
        const auto echo = [this](const QByteArray &path) {
            const QByteArray answer = HttpClient::raw(
                m_harness->port(), "GET " + path +
                                       " HTTP/1.1\r\nHost: localhost\r\n"
                                       "Authorization: Bearer test-key\r\nConnection: close\r\n\r\n");
            return answer.mid(answer.indexOf("\r\n\r\n") + 4);
        };
        QCOMPARE(echo("/v1/echo/a%2Fb"), QByteArray("a/b"));
        QCOMPARE(echo("/v1/echo/fa%2573t"), QByteArray("fa%73t"));
        QCOMPARE(echo("/v1/echo/plain"), QByteArray("plain"));
    }

    void keyComparison()
    {
        const QStringList keys{QStringLiteral("abc"), QStringLiteral("longer-key")};
        QCOMPARE(ApiServer::matchKey("abc", keys), 0);
        QCOMPARE(ApiServer::matchKey("longer-key", keys), 1);
        QCOMPARE(ApiServer::matchKey("ab", keys), -1);
        QCOMPARE(ApiServer::matchKey("abcd", keys), -1);
        QCOMPARE(ApiServer::matchKey("", keys), -1);
        QCOMPARE(ApiServer::matchKey("", {QString()}), -1);
    }
};

QTEST_GUILESS_MAIN(TestServerLimits)
#include "tst_serverlimits.moc"
