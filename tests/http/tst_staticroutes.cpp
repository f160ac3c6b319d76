// Integration: the embedded web UI at "/": content types, ETag and 304, security headers, client-side routes
// answered with the page, and the API's own 401/404/405 left as they were.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QtTest>

class TestStaticRoutes : public QObject
{
    Q_OBJECT

private:
    SimulatedProvider m_sim;
    ProxyHarness *m_harness = nullptr;

    QString url(const QString &path) const { return m_harness->url(path); }

    static void verifySecurityHeaders(const HttpClient::Response &r)
    {
        const QByteArray csp = r.header("Content-Security-Policy");
        QVERIFY2(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") &&
                     csp.contains("frame-ancestors 'none'"),
                 csp.constData());
        QCOMPARE(r.header("X-Frame-Options"), QByteArray("DENY"));
        QCOMPARE(r.header("X-Content-Type-Options"), QByteArray("nosniff"));
        QCOMPARE(r.header("Referrer-Policy"), QByteArray("no-referrer"));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_sim.listen());
        m_harness = new ProxyHarness;
        m_harness->addProvider(QStringLiteral("a"), &m_sim);
        m_harness->addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        QVERIFY(m_harness->start());
    }

    void cleanupTestCase() { delete m_harness; }

    void filesHaveTheirContentType_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("contains");
        QTest::newRow("root") << "/" << QByteArray("text/html; charset=utf-8")
                              << QByteArray("<!doctype html>");
        QTest::newRow("index") << "/index.html" << QByteArray("text/html; charset=utf-8")
                               << QByteArray("app.js");
        QTest::newRow("module") << "/app.js" << QByteArray("text/javascript; charset=utf-8")
                                << QByteArray("import");
        QTest::newRow("css") << "/app.css" << QByteArray("text/css; charset=utf-8") << QByteArray("{");
        QTest::newRow("icon") << "/favicon.svg" << QByteArray("image/svg+xml") << QByteArray("<svg");
    }

    void filesHaveTheirContentType()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, contains);
        const auto r = HttpClient::get(url(path), {{"Authorization", ""}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), type);
        QVERIFY2(r.body.contains(contains), r.body.left(200).constData());
        QCOMPARE(r.header("Cache-Control"), QByteArray("no-cache"));
        QVERIFY(r.header("ETag").startsWith('"'));
        verifySecurityHeaders(r);
    }

    void etagAnswers304()
    {
        const auto first = HttpClient::get(url(QStringLiteral("/app.css")));
        const QByteArray etag = first.header("ETag");
        QVERIFY(!etag.isEmpty());
        const auto again = HttpClient::get(url(QStringLiteral("/app.css")), {{"If-None-Match", etag}});
        QCOMPARE(again.status, 304);
        QVERIFY(again.body.isEmpty());
        QCOMPARE(again.header("ETag"), etag);
        verifySecurityHeaders(again);
        const auto weak =
            HttpClient::get(url(QStringLiteral("/app.css")), {{"If-None-Match", "\"x\", W/" + etag}});
        QCOMPARE(weak.status, 304);
        const auto changed =
            HttpClient::get(url(QStringLiteral("/app.css")), {{"If-None-Match", "\"other\""}});
        QCOMPARE(changed.status, 200);
    }

    void clientRoutesServeThePage_data()
    {
        QTest::addColumn<QString>("path");
        for (const char *path : {"/providers", "/chains", "/log", "/test", "/settings", "/some/deeper/route"})
            QTest::newRow(path) << QString::fromLatin1(path);
    }

    void clientRoutesServeThePage()
    {
        QFETCH(QString, path);
        const auto r = HttpClient::get(url(path), {{"Authorization", ""}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("text/html; charset=utf-8"));
        QVERIFY(r.body.contains("<!doctype html>"));
        verifySecurityHeaders(r);
    }

    void missingFileIsNotThePage()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/nothing.js")));
        QCOMPARE(r.status, 404);
        QVERIFY(!r.body.contains("<!doctype html>"));
        verifySecurityHeaders(r);
    }

    void apiRoutesAreNotShadowed()
    {
        const auto health = HttpClient::get(url(QStringLiteral("/health")));
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json().value(QLatin1String("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(HttpClient::get(url(QStringLiteral("/metrics"))).status, 200);
        const auto noKey = HttpClient::get(url(QStringLiteral("/v1/providers")), {{"Authorization", ""}});
        QCOMPARE(noKey.status, 401);
        const auto unknown = HttpClient::get(url(QStringLiteral("/v1/providers")));
        QCOMPARE(unknown.status, 404);
        QVERIFY(unknown.json().value(QLatin1String("error")).isObject());
        QVERIFY(unknown.header("Content-Security-Policy").isEmpty());
        const auto post = HttpClient::post(url(QStringLiteral("/providers")), QByteArrayLiteral("{}"));
        QCOMPARE(post.status, 404);
        QVERIFY(post.json().value(QLatin1String("error")).isObject());
    }

    void headHasNoBody()
    {
        const auto r = HttpClient::raw(
            m_harness->port(), "HEAD /chains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 8000);
        QVERIFY2(r.startsWith("HTTP/1.1 200"), r.constData());
        QVERIFY(r.contains("Content-Security-Policy:"));
        QVERIFY(!r.contains("<!doctype html>"));
    }
};

QTEST_GUILESS_MAIN(TestStaticRoutes)
#include "tst_staticroutes.moc"
