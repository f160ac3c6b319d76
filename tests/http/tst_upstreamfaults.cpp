// Integration: whatever an upstream does below HTTP (garbage, invalid UTF-8, a 100 MB line, an endless
// stream, a cut inside a chunk, a TLS error, a refused connection, a name that does not resolve) ends in a
// clean failover to the next entry, or a clean OpenAI-shaped error when no entry is left, with bounded
// memory.

#include "faultserver.h"
#include "httpclient.h"
#include "processprobe.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

using Fault = FaultServer::Fault;

namespace {
// Memory figures mean something only without AddressSanitizer, whose quarantine keeps freed blocks resident.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif
} // namespace

class TestUpstreamFaults : public QObject
{
    Q_OBJECT

private:
    // Chain "fallback" = bad → good; chain "alone" = bad only.
    struct Setup
    {
        SimulatedProvider good;
        ProxyHarness h;
        explicit Setup(const QString &badUrl, qint64 timeoutMs = 5000)
        {
            good.listen();
            good.setReply(QStringLiteral("served by good"));
            ProviderConfig bad;
            bad.id = QStringLiteral("bad");
            bad.name = QStringLiteral("bad");
            bad.type = QStringLiteral("generic-openai");
            bad.apiKey = QStringLiteral("sk-upstream-bad");
            bad.baseUrl = badUrl;
            bad.timeoutMs = timeoutMs;
            h.config().providers.append(bad);
            h.addProvider(QStringLiteral("good"), &good);
            h.addChain(QStringLiteral("fallback"), {QStringLiteral("bad/m"), QStringLiteral("good/g")});
            h.addChain(QStringLiteral("alone"), {QStringLiteral("bad/m")});
            h.config().settings.requestTimeoutMs = timeoutMs;
            h.config().settings.streamIdleTimeoutMs = timeoutMs;
        }
        QString chat() const { return h.url(QStringLiteral("/v1/chat/completions")); }
    };

    static QString errorCode(const QByteArray &json)
    {
        return QJsonDocument::fromJson(json)
            .object()
            .value(QLatin1String("error"))
            .toObject()
            .value(QLatin1String("code"))
            .toString();
    }

    // Both request kinds fail over to `good`, then the bad entry alone gives a clean error; the proxy still
    // answers /health afterwards.
    static void expectFailoverAndCleanError(Setup &s)
    {
        const auto whole =
            HttpClient::post(s.chat(), HttpClient::chatBody(QStringLiteral("fallback"), false));
        QCOMPARE(whole.status, 200);
        QCOMPARE(whole.header("X-429chain-Provider"), QByteArray("good/g"));

        const auto streamed =
            HttpClient::stream(s.chat(), HttpClient::chatBody(QStringLiteral("fallback"), true));
        QCOMPARE(streamed.status, 200);
        QVERIFY(streamed.sawDone());
        QCOMPARE(streamed.text(), QStringLiteral("served by good"));

        // The bad entry may now be cooling down after repeated failures: either way the answer is clean.
        const auto alone = HttpClient::post(s.chat(), HttpClient::chatBody(QStringLiteral("alone"), false));
        QVERIFY2(alone.status >= 429 && alone.status < 600, qPrintable(QString::number(alone.status)));
        QCOMPARE(errorCode(alone.body), QStringLiteral("all_providers_exhausted"));

        const auto aloneStream =
            HttpClient::stream(s.chat(), HttpClient::chatBody(QStringLiteral("alone"), true));
        QVERIFY(aloneStream.error.isEmpty());
        QVERIFY(!aloneStream.sawDone());
        QVERIFY2(aloneStream.status >= 429 && aloneStream.status < 600,
                 qPrintable(QString::number(aloneStream.status)));

        QCOMPARE(HttpClient::get(s.h.url(QStringLiteral("/health"))).status, 200);
        QTRY_COMPARE(s.h.records.size(), 4);
        for (const RequestRecord &r : s.h.records)
            QVERIFY(r.status > 0);
    }

private slots:
    void faultBeforeFirstToken_data()
    {
        QTest::addColumn<int>("fault");
        QTest::newRow("garbage bytes") << int(Fault::Garbage);
        QTest::newRow("close mid-chunk") << int(Fault::CloseMidChunk);
        QTest::newRow("endless stream without content") << int(Fault::EndlessEmpty);
    }

    void faultBeforeFirstToken()
    {
        QFETCH(int, fault);
        FaultServer bad{static_cast<Fault>(fault)};
        QVERIFY(bad.listen());
        Setup s(bad.baseUrl());
        QVERIFY(s.h.start());
        expectFailoverAndCleanError(s);
        QVERIFY(bad.requests() >= 1);
        QTRY_COMPARE_WITH_TIMEOUT(bad.openConnections(), 0, 15000); // nothing left hanging upstream
    }

    void invalidUtf8BecomesReplacementCharacters()
    {
        FaultServer bad(Fault::InvalidUtf8);
        QVERIFY(bad.listen());
        Setup s(bad.baseUrl());
        QVERIFY(s.h.start());
        const auto r = HttpClient::stream(s.chat(), HttpClient::chatBody(QStringLiteral("alone"), true));
        QCOMPARE(r.status, 200);
        QVERIFY(r.sawDone());
        for (const auto &e : r.events)
            QVERIFY2(QUtf8StringView(e.data).isValidUtf8(), e.data.constData());
        QCOMPARE(r.text(), QStringLiteral("\uFFFD(\uFFFD"));
    }

    void hugeLineKeepsMemoryBounded_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::newRow("stream: 100 MB without a newline") << true;
        QTest::newRow("whole: 100 MB body") << false;
    }

    void hugeLineKeepsMemoryBounded()
    {
        QFETCH(bool, stream);
        FaultServer bad(Fault::HugeLine);
        QVERIFY(bad.listen());
        Setup s(bad.baseUrl(), 60000);
        QVERIFY(s.h.start());
        const qint64 before = ProcessProbe::rssKiB();
        ProcessProbe::resetPeakRss();
        if (stream) {
            const auto r = HttpClient::stream(
                s.chat(), HttpClient::chatBody(QStringLiteral("fallback"), true), {}, 120000);
            QCOMPARE(r.status, 200);
            QVERIFY(r.sawDone());
            QCOMPARE(r.text(), QStringLiteral("served by good"));
        } else {
            const auto r = HttpClient::post(s.chat(), HttpClient::chatBody(QStringLiteral("fallback"), false),
                                            {}, 120000);
            QCOMPARE(r.status, 200);
            QCOMPARE(r.header("X-429chain-Provider"), QByteArray("good/g"));
        }
        const qint64 peakGrowthMiB = (ProcessProbe::peakRssKiB() - before) / 1024;
        qInfo() << "peak RSS growth" << peakGrowthMiB << "MiB for a 100 MB upstream line";
        // The SSE parser drops a stream at 8 MiB per event and a whole body is refused beyond 16 MiB; the
        // 100 MB never sits in memory.
        if (kRssIsMeaningful)
            QVERIFY2(peakGrowthMiB < 48, qPrintable(QString::number(peakGrowthMiB)));
        QVERIFY(bad.bytesSent() < 100LL * 1024 * 1024); // the proxy hung up before the end
        QTRY_COMPARE_WITH_TIMEOUT(bad.openConnections(), 0, 15000);
    }

    void endlessStreamEndsWhenTheClientLeaves()
    {
        FaultServer bad(Fault::EndlessContent);
        QVERIFY(bad.listen());
        Setup s(bad.baseUrl());
        QVERIFY(s.h.start());
        const qint64 before = ProcessProbe::rssKiB();
        QTcpSocket client;
        client.connectToHost(QHostAddress::LocalHost, s.h.port());
        QVERIFY(client.waitForConnected(5000));
        const QByteArray body = HttpClient::chatBody(QStringLiteral("alone"), true);
        client.write(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-key\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n" + body);
        qint64 received = 0;
        QTRY_VERIFY_WITH_TIMEOUT((received += client.readAll().size()) > 8 * 1024 * 1024, 60000);
        QCOMPARE(bad.openConnections(), 1);
        client.abort();
        QTRY_COMPARE_WITH_TIMEOUT(bad.openConnections(), 0, 15000); // the upstream call was dropped
        QTRY_COMPARE(s.h.records.size(), 1);
        const qint64 growthMiB = (ProcessProbe::rssKiB() - before) / 1024;
        if (kRssIsMeaningful)
            QVERIFY2(growthMiB < 48, qPrintable(QString::number(growthMiB)));
    }

    void cutAfterContentEndsWithAnErrorEvent()
    {
        FaultServer bad(Fault::CloseAfterContent);
        QVERIFY(bad.listen());
        Setup s(bad.baseUrl());
        s.h.config().settings.midStreamContinue = false; // the honest ending, as without continuation
        QVERIFY(s.h.start());
        const auto r = HttpClient::stream(s.chat(), HttpClient::chatBody(QStringLiteral("fallback"), true));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.sawDone()); // committed to `bad`: a truncated answer must not look whole
        QVERIFY(r.text().startsWith(QStringLiteral("Hello there")));
        QVERIFY(!r.events.isEmpty());
        QCOMPARE(r.events.last().event, QByteArray("error"));
        QVERIFY(
            QJsonDocument::fromJson(r.events.last().data).object().value(QLatin1String("error")).isObject());
    }

    void tlsErrorFailsOver()
    {
        // https to a server that speaks no TLS: the handshake fails.
        FaultServer plain(Fault::Garbage);
        QVERIFY(plain.listen());
        Setup s(QStringLiteral("https://127.0.0.1:%1/v1").arg(plain.port()));
        QVERIFY(s.h.start());
        expectFailoverAndCleanError(s);
        // A handshake error, seen as such (not a timeout).
        QVERIFY(!s.h.records.first().attempts.isEmpty());
        QVERIFY2(s.h.records.first().attempts.first().reason.contains(QLatin1String("SSL")),
                 qPrintable(s.h.records.first().attempts.first().reason));
    }

    void connectionRefusedFailsOver()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        } // closed: nothing listens there now
        Setup s(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
        QVERIFY(s.h.start());
        expectFailoverAndCleanError(s);
    }

    void dnsFailureFailsOver()
    {
        // .invalid never resolves (RFC 6761); without a network the lookup fails or the provider timeout
        // bounds it.
        Setup s(QStringLiteral("http://upstream.429chain-test.invalid/v1"), 5000);
        QVERIFY(s.h.start());
        expectFailoverAndCleanError(s);
    }
};

QTEST_MAIN(TestUpstreamFaults)
#include "tst_upstreamfaults.moc"
