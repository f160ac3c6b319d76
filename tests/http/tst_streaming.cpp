// Integration: streamed chat completions through the proxy: commit at first content, failover before it,
// clean errors after it, usage handling, client disconnects and concurrency.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"
#include "streamreader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

using Step = SimulatedProvider::Step;

class TestStreaming : public QObject
{
    Q_OBJECT

private:
    static QString chat(ProxyHarness &h) { return h.url(QStringLiteral("/v1/chat/completions")); }

    // Two providers a → b in chain "default"; `a` scripted by the caller.
    struct Pair
    {
        SimulatedProvider a;
        SimulatedProvider b;
        ProxyHarness h;
        Pair(SimulatedProvider::Dialect dialect = SimulatedProvider::Dialect::OpenAI) : a(dialect)
        {
            a.listen();
            b.listen();
            a.setReply(QStringLiteral("from a"));
            b.setReply(QStringLiteral("served by b"));
            h.addProvider(QStringLiteral("a"), &a);
            h.addProvider(QStringLiteral("b"), &b);
            h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        }
    };

    static bool hasUsageChunk(const HttpClient::StreamResponse &r)
    {
        for (const auto &e : r.events) {
            const QJsonObject o = QJsonDocument::fromJson(e.data).object();
            if (o.value(QLatin1String("usage")).isObject() &&
                o.value(QLatin1String("choices")).toArray().isEmpty())
                return true;
        }
        return false;
    }

private slots:
    void streamsAndEndsWithDone()
    {
        Pair p;
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Type").startsWith("text/event-stream"));
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/ma"));
        QCOMPARE(r.text(), QStringLiteral("from a"));
        QVERIFY(r.sawDone());
        QVERIFY(!hasUsageChunk(r)); // the client did not ask for it
        // Upstream was asked for usage so tokens are counted.
        const QJsonObject sent = p.a.lastRequest().body;
        QVERIFY(sent.value(QLatin1String("stream")).toBool());
        QVERIFY(sent.value(QLatin1String("stream_options"))
                    .toObject()
                    .value(QLatin1String("include_usage"))
                    .toBool());
        QTRY_COMPARE(p.h.records.size(), 1);
        const auto &rec = p.h.records.first();
        QCOMPARE(rec.status, 200);
        QVERIFY(rec.stream);
        QVERIFY(rec.totalTokens > 0);
        QVERIFY(!rec.tokensEstimated);
        QVERIFY(rec.firstTokenMs >= 0);
    }

    void tokensAreEstimatedWhenTheStreamHasNoUsage()
    {
        Pair p;
        p.a.setReportsUsage(false);
        p.a.setReply(QStringLiteral("twelve chars and then some more")); // 31 characters
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(
            chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true, QStringLiteral("abcdefgh")));
        QVERIFY(r.sawDone());
        QTRY_COMPARE(p.h.records.size(), 1);
        const auto &rec = p.h.records.first();
        QVERIFY(rec.tokensEstimated);
        QCOMPARE(rec.completionTokens, 8); // ceil(31 / 4)
        QCOMPARE(rec.promptTokens, 2);     // ceil(8 / 4)
        QCOMPARE(rec.totalTokens, 10);
    }

    void usageChunkOnlyWhenAsked()
    {
        Pair p;
        QVERIFY(p.h.start());
        const QJsonObject extra{
            {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}}};
        const auto r = HttpClient::stream(
            chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true, QStringLiteral("Hi"), extra));
        QVERIFY(r.sawDone());
        QVERIFY(hasUsageChunk(r));
    }

    void failsOverOn429AtStreamStart()
    {
        Pair p(SimulatedProvider::Dialect::Groq);
        p.a.enqueue(Step::rateLimited(10));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(r.header("X-429chain-Attempts"), QByteArray("2"));
        QCOMPARE(r.text(), QStringLiteral("served by b"));
        QVERIFY(r.sawDone());
    }

    void failsOverOnInBandErrorBeforeFirstToken_data()
    {
        QTest::addColumn<int>("dialect");
        QTest::newRow("openrouter error chunk") << int(SimulatedProvider::Dialect::OpenRouter);
        QTest::newRow("groq event: error") << int(SimulatedProvider::Dialect::Groq);
    }

    void failsOverOnInBandErrorBeforeFirstToken()
    {
        QFETCH(int, dialect);
        Pair p{SimulatedProvider::Dialect(dialect)};
        p.a.enqueue(Step::of(Step::Kind::InBandErrorBeforeFirstToken));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(r.text(), QStringLiteral("served by b"));
        for (const auto &e : r.events)
            QVERIFY2(!e.data.contains("error") && e.event != "error", e.data.constData());
        QVERIFY(r.sawDone());
    }

    void failsOverOnDropBeforeFirstToken()
    {
        Pair p;
        p.a.enqueue(Step::of(Step::Kind::DropBeforeFirstToken));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(r.text(), QStringLiteral("served by b"));
        QVERIFY(r.sawDone());
    }

    void failsOverOnIdleBeforeFirstToken()
    {
        Pair p;
        p.a.enqueue(Step::of(Step::Kind::HangAfterHeaders));
        p.h.config().settings.streamIdleTimeoutMs = 1000;
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QVERIFY(r.sawDone());
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().attempts.first().outcome, AttemptRecord::Outcome::Timeout);
    }

    void dropAfterCommitIsContinuedByTheNextEntry()
    {
        Pair p;
        p.a.setReply(QStringLiteral("one two three four five six"));
        p.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3));
        p.b.setReply(QStringLiteral(" four five six"));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/ma")); // who began it
        QCOMPARE(r.text(), QStringLiteral("one two three four five six"));
        QVERIFY(r.sawDone());
        for (const auto &e : r.events)
            QVERIFY2(e.event != "error", e.data.constData());
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().status, 200);
        QCOMPARE(p.h.records.first().attempts.size(), 2);
    }

    void dropAfterCommitEndsWithErrorAndNoDone()
    {
        Pair p;
        p.a.setReply(QStringLiteral("one two three four five six"));
        p.a.enqueue(Step::of(Step::Kind::DropAfterTokens, 3));
        p.h.config().settings.midStreamContinue = false; // the honest ending, as without continuation
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("a/ma"));
        QVERIFY(r.text().startsWith(QLatin1String("one two three")));
        QVERIFY(!r.sawDone());
        QVERIFY(!r.events.isEmpty());
        const auto &last = r.events.last();
        QCOMPARE(last.event, QByteArray("error"));
        const QJsonObject error =
            QJsonDocument::fromJson(last.data).object().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toString(), QStringLiteral("stream_error"));
        QCOMPARE(p.b.requestCount(), 0);
        // No usage came: the record's tokens are an estimate, flagged, and add up.
        QTRY_COMPARE(p.h.records.size(), 1);
        const RequestRecord &rec = p.h.records.first();
        QCOMPARE(rec.status, 502);
        QVERIFY(rec.tokensEstimated);
        QVERIFY(rec.promptTokens > 0 && rec.completionTokens > 0);
        QCOMPARE(rec.totalTokens, rec.promptTokens + rec.completionTokens);
    }

    void abortAllAfterCommitEndsWithShuttingDownEvent()
    {
        Pair p;
        p.a.setReply(QStringLiteral("a b c d e f g h i j k l m n o p q r s t"));
        p.a.setChunkDelayMs(100);
        QVERIFY(p.h.start());
        QTimer::singleShot(400, &p.h, [&] { p.h.service().abortAll(QStringLiteral("shutting down")); });
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.sawDone());
        QVERIFY(!r.events.isEmpty());
        QCOMPARE(r.events.last().event, QByteArray("error"));
        const QJsonObject error =
            QJsonDocument::fromJson(r.events.last().data).object().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toString(), QStringLiteral("shutting_down"));
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().status, 503);
        QVERIFY(p.h.records.first().tokensEstimated);
        QCOMPARE(p.h.service().activeRequests(), 0);
    }

    void drainingServerRefusesNewRequests()
    {
        Pair p;
        QVERIFY(p.h.start());
        p.h.server().setDraining(true);
        const QByteArray body = HttpClient::chatBody(QStringLiteral("default"), false);
        const QByteArray raw = HttpClient::raw(
            p.h.port(),
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-key\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
                QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY2(raw.startsWith("HTTP/1.1 503"), raw.constData());
        QVERIFY2(raw.toLower().contains("connection: close"), raw.constData());
        QVERIFY2(raw.contains("shutting_down"), raw.constData());
        QCOMPARE(p.a.requestCount(), 0);
    }

    void contentlessStreamFailsOverAfterOneMiB()
    {
        // `a` answers 200 and then only role chunks (no content): past 1 MiB held back, it fails over to b.
        Pair p;
        QTcpServer raw;
        QVERIFY(raw.listen(QHostAddress::LocalHost));
        QByteArray chunk =
            "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
            "\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n";
        QByteArray body;
        while (body.size() < StreamReader::kMaxHeldBytes + 64 * 1024)
            body += chunk;
        QList<QTcpSocket *> sockets;
        connect(&raw, &QTcpServer::newConnection, &raw, [&] {
            while (QTcpSocket *s = raw.nextPendingConnection()) {
                sockets.append(s);
                connect(s, &QTcpSocket::readyRead, s, [s, body] {
                    if (s->property("answered").toBool())
                        return;
                    s->setProperty("answered", true);
                    s->readAll();
                    s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: "
                             "no-cache\r\n\r\n");
                    s->write(body); // and the stream stays open
                });
            }
        });
        p.h.config().providers[0].baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(raw.serverPort());
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QVERIFY(r.sawDone());
        QTRY_COMPARE(p.h.records.size(), 1);
        const RequestRecord &rec = p.h.records.first();
        QCOMPARE(rec.attempts.size(), 2);
        QCOMPARE(rec.attempts.first().reason, QStringLiteral("stream sent no content within 1 MiB"));
    }

    void inBandErrorAfterCommitEndsWithError()
    {
        Pair p(SimulatedProvider::Dialect::OpenRouter);
        p.a.setReply(QStringLiteral("one two three four"));
        p.a.enqueue(Step::of(Step::Kind::InBandErrorAfterTokens, 2));
        p.h.config().settings.midStreamContinue = false; // the honest ending, as without continuation
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QVERIFY(!r.sawDone());
        QCOMPARE(r.events.last().event, QByteArray("error"));
    }

    void allExhaustedBeforeStreamIsPlainJson429()
    {
        Pair p;
        p.a.setDefaultStep(Step::rateLimited(30));
        p.b.setDefaultStep(Step::rateLimited(60));
        QVERIFY(p.h.start());
        const auto r = HttpClient::stream(chat(p.h), HttpClient::chatBody(QStringLiteral("default"), true));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("30"));
        QCOMPARE(QJsonDocument::fromJson(r.body)
                     .object()
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("code"))
                     .toString(),
                 QStringLiteral("all_providers_exhausted"));
    }

    void clientDisconnectAbortsUpstream()
    {
        Pair p;
        p.a.setReply(QStringLiteral("a b c d e f g h i j k l m n o p q r s t"));
        p.a.setChunkDelayMs(150);
        QVERIFY(p.h.start());
        QNetworkAccessManager nam;
        QNetworkRequest req{QUrl(chat(p.h))};
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        req.setRawHeader("Authorization", "Bearer test-key");
        QNetworkReply *reply = nam.post(req, HttpClient::chatBody(QStringLiteral("default"), true));
        QTRY_VERIFY_WITH_TIMEOUT(reply->bytesAvailable() > 0, 10000);
        reply->abort();
        reply->deleteLater();
        QTRY_COMPARE_WITH_TIMEOUT(p.a.clientAborts(), 1, 10000);
        QTRY_COMPARE(p.h.records.size(), 1);
        QCOMPARE(p.h.records.first().status, 499);
        QCOMPARE(p.h.service().activeRequests(), 0);
    }

    void slowClientPausesUpstreamReading()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        QStringList words;
        for (int i = 0; i < 100000; ++i)
            words << QStringLiteral("word%1").arg(i);
        sim.setReply(words.join(QLatin1Char(' '))); // about 20 MB of SSE, sent as fast as the socket takes it
        ProxyHarness h;
        h.addProvider(QStringLiteral("s"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("s/m")});
        QVERIFY(h.start());

        const QByteArray body = HttpClient::chatBody(QStringLiteral("default"), true);
        QTcpSocket client;
        client.setReadBufferSize(64 *
                                 1024); // a client that reads nothing: the kernel buffers fill, then stop
        connect(&client, &QTcpSocket::connected, this, [&] {
            client.write(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-key\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                QByteArray::number(body.size()) + "\r\n\r\n" + body);
        });
        client.connectToHost(QHostAddress::LocalHost, h.port());
        QTRY_VERIFY_WITH_TIMEOUT(h.server().pendingOutputBytes() > 0, 10000);
        QTest::qWait(2000);
        // Without backpressure the proxy would queue most of the 20 MB for this client.
        QVERIFY2(h.server().pendingOutputBytes() < 4 * 1024 * 1024,
                 qPrintable(QString::number(h.server().pendingOutputBytes())));
        QVERIFY(h.records.isEmpty());

        // Reading again resumes the relay to the end.
        client.setReadBufferSize(0);
        QByteArray received;
        connect(&client, &QTcpSocket::readyRead, this, [&] {
            received += client.readAll();
            if (received.size() > 1024 * 1024)
                received = received.right(1024); // only the end matters
        });
        received += client.readAll();
        QTRY_COMPARE_WITH_TIMEOUT(h.records.size(), 1, 60000);
        QCOMPARE(h.records.first().status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(received.contains("data: [DONE]"), 20000);
    }

    void fiftyConcurrentStreamsOverlapAndComplete()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        sim.setReply(QStringLiteral("w1 w2 w3 w4 w5 w6 w7 w8"));
        sim.setChunkDelayMs(100);
        ProxyHarness h;
        h.addProvider(QStringLiteral("s"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("s/m")});
        QVERIFY(h.start());

        constexpr int kStreams = 50;
        // Enough client managers that the client side does not serialize either (6 connections per host
        // each).
        QList<QNetworkAccessManager *> managers;
        for (int i = 0; i < 10; ++i)
            managers << new QNetworkAccessManager(this);
        int done = 0;
        int complete = 0;
        for (int i = 0; i < kStreams; ++i) {
            QNetworkRequest req{QUrl(chat(h))};
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            req.setRawHeader("Authorization", "Bearer test-key");
            QNetworkReply *reply = managers.at(i % managers.size())
                                       ->post(req, HttpClient::chatBody(QStringLiteral("default"), true));
            auto *body = new QByteArray;
            connect(reply, &QNetworkReply::readyRead, this, [reply, body] { *body += reply->readAll(); });
            connect(reply, &QNetworkReply::finished, this, [&, reply, body] {
                *body += reply->readAll();
                ++done;
                if (body->contains("data: [DONE]") && body->contains("w8"))
                    ++complete;
                delete body;
                reply->deleteLater();
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, kStreams, 60000);
        QCOMPARE(complete, kStreams);
        // They ran side by side, not in waves of six.
        QVERIFY2(sim.maxConcurrentStreams() >= 40, qPrintable(QString::number(sim.maxConcurrentStreams())));
        qDeleteAll(managers);
    }
};

QTEST_GUILESS_MAIN(TestStreaming)
#include "tst_streaming.moc"
