// Soak driver (scripts/soak): starts the real 429chain binary over a chain whose first entries misbehave on
// purpose (garbage bytes, streams cut mid-chunk, chatter without content, 429s, 500s, hangs, drops and
// in-band errors before the first token) and whose last entry is healthy, then keeps mixed streaming and
// whole requests in flight, plus clients that hang up mid-answer, for the given time. Every request a client
// completes must succeed: an error the client sees was not injected (faults before the first token fail
// over invisibly). Reports requests, injected faults, errors, and the proxy's RSS and open files at start
// and end; exits 1 on any error or on growth of open files.

#include "faultserver.h"
#include "httpclient.h"
#include "processprobe.h"
#include "simulatedprovider.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

using Step = SimulatedProvider::Step;

namespace {
const QByteArray kKey = "soak-key";

void say(const QString &text)
{
    std::printf("%s %s\n", qPrintable(QDateTime::currentDateTimeUtc().toString(QStringLiteral("hh:mm:ss"))),
                qPrintable(text));
    std::fflush(stdout);
}

struct Stats
{
    qint64 ok = 0;
    qint64 okStream = 0;
    qint64 errors = 0; // not injected: must stay 0
    qint64 clientHangups = 0;
    QStringList errorSamples;
};

class Driver : public QObject
{
public:
    Driver(quint16 port, int parallel, Stats &stats) : m_port(port), m_stats(stats)
    {
        for (int i = 0; i < 3; ++i)
            m_nams.push_back(std::make_unique<QNetworkAccessManager>());
        for (int i = 0; i < parallel; ++i)
            next(i);
        m_hangupTimer.setInterval(200);
        connect(&m_hangupTimer, &QTimer::timeout, this, [this] { hangUp(); });
        m_hangupTimer.start();
    }
    void stop()
    {
        m_stopped = true;
        m_hangupTimer.stop();
    }
    int inFlight() const { return m_inFlight; }

private:
    void next(int slot)
    {
        if (m_stopped)
            return;
        const bool stream = QRandomGenerator::global()->bounded(2) == 0;
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_port)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        req.setRawHeader("Authorization", "Bearer " + kKey);
        req.setTransferTimeout(120000);
        QNetworkReply *reply = m_nams[std::size_t(slot) % m_nams.size()]->post(
            req, HttpClient::chatBody(QStringLiteral("default"), stream,
                                      QStringLiteral("soak %1").arg(m_serial++)));
        ++m_inFlight;
        connect(reply, &QNetworkReply::finished, this, [this, reply, slot, stream] {
            --m_inFlight;
            reply->deleteLater();
            const QByteArray body = reply->readAll();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const bool good =
                status == 200 && (stream ? body.contains("data: [DONE]") && !body.contains("event: error")
                                         : body.contains("\"choices\""));
            if (good) {
                ++m_stats.ok;
                m_stats.okStream += stream;
            } else {
                ++m_stats.errors;
                if (m_stats.errorSamples.size() < 10)
                    m_stats.errorSamples
                        << QStringLiteral("%1 %2 %3: %4")
                               .arg(stream ? QStringLiteral("stream") : QStringLiteral("whole"))
                               .arg(status)
                               .arg(reply->errorString(), QString::fromUtf8(body.left(300)));
            }
            next(slot);
        });
    }

    // A client that sends a streamed request and hangs up at a random moment: injected, never counted.
    void hangUp()
    {
        if (m_stopped)
            return;
        auto *socket = new QTcpSocket(this);
        const QByteArray body = HttpClient::chatBody(QStringLiteral("default"), true);
        connect(socket, &QTcpSocket::connected, socket, [socket, body] {
            socket->write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                          kKey + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          QByteArray::number(body.size()) + "\r\n\r\n" + body);
        });
        QTimer::singleShot(QRandomGenerator::global()->bounded(5, 400), socket, [this, socket] {
            ++m_stats.clientHangups;
            socket->abort();
            socket->deleteLater();
        });
        socket->connectToHost(QHostAddress::LocalHost, m_port);
    }

    quint16 m_port;
    Stats &m_stats;
    std::vector<std::unique_ptr<QNetworkAccessManager>> m_nams;
    QTimer m_hangupTimer;
    bool m_stopped = false;
    int m_inFlight = 0;
    qint64 m_serial = 0;
};

// Scripts the flaky provider: most answers fine, the rest one of the faults it can play.
void feedFlaky(SimulatedProvider &flaky)
{
    while (flaky.pendingSteps() < 50) {
        const int roll = QRandomGenerator::global()->bounded(100);
        if (roll < 55)
            flaky.enqueue(Step::ok());
        else if (roll < 65)
            flaky.enqueue(Step::rateLimited(1));
        else if (roll < 73)
            flaky.enqueue(Step::status(500));
        else if (roll < 80)
            flaky.enqueue(Step::status(503));
        else if (roll < 86)
            flaky.enqueue(Step::of(Step::Kind::DropBeforeFirstToken));
        else if (roll < 92)
            flaky.enqueue(Step::of(Step::Kind::InBandErrorBeforeFirstToken));
        else if (roll < 96)
            flaky.enqueue(Step::of(Step::Kind::HangAfterHeaders));
        else
            flaky.enqueue(Step::of(Step::Kind::Hang));
    }
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("429chain soak driver"));
    parser.addHelpOption();
    const QCommandLineOption minutesOpt(QStringLiteral("minutes"), QStringLiteral("How long (default 30)."),
                                        QStringLiteral("minutes"), QStringLiteral("30"));
    const QCommandLineOption parallelOpt(QStringLiteral("parallel"),
                                         QStringLiteral("Requests in flight (16)."), QStringLiteral("n"),
                                         QStringLiteral("16"));
    const QCommandLineOption binaryOpt(QStringLiteral("binary"), QStringLiteral("The 429chain binary."),
                                       QStringLiteral("path"), QStringLiteral(CHAIN_BINARY));
    const QCommandLineOption noFaultsOpt(
        QStringLiteral("no-faults"), QStringLiteral("Only the healthy provider (a baseline to compare)."));
    const QCommandLineOption faultsOpt(
        QStringLiteral("faults"),
        QStringLiteral("Faulty entries to use (default garbage,cut,chatter,flaky)."), QStringLiteral("list"),
        QStringLiteral("garbage,cut,chatter,flaky"));
    parser.addOptions({minutesOpt, parallelOpt, binaryOpt, noFaultsOpt, faultsOpt});
    parser.process(app);
    const double minutes = parser.value(minutesOpt).toDouble();
    const int parallel = qMax(1, parser.value(parallelOpt).toInt());

    // Upstreams: raw faults first, then a scripted flaky provider, then a healthy one.
    FaultServer garbage(FaultServer::Fault::Garbage);
    FaultServer cut(FaultServer::Fault::CloseMidChunk);
    FaultServer chatter(FaultServer::Fault::EndlessEmpty);
    SimulatedProvider flaky(SimulatedProvider::Dialect::Groq);
    // The healthy provider gets a thread of its own: the fault servers on this one pump bytes as fast as the
    // proxy reads them, and must not slow down the answers that are supposed to succeed.
    QThread goodThread;
    goodThread.start();
    auto *good = new SimulatedProvider(SimulatedProvider::Dialect::OpenAI);
    good->moveToThread(&goodThread);
    bool goodListening = false;
    QMetaObject::invokeMethod(
        good,
        [&] {
            good->setReply(QStringLiteral("the quick brown fox jumps over the lazy dog"));
            good->setChunkDelayMs(5);
            goodListening = good->listen();
        },
        Qt::BlockingQueuedConnection);
    const auto stopGood = qScopeGuard([&] {
        QMetaObject::invokeMethod(
            good, [good] { delete good; }, Qt::BlockingQueuedConnection);
        goodThread.quit();
        goodThread.wait();
    });
    if (!garbage.listen() || !cut.listen() || !chatter.listen() || !flaky.listen() || !goodListening) {
        say(QStringLiteral("cannot listen on loopback"));
        return 2;
    }
    flaky.setReply(QStringLiteral("flaky but fine"));
    feedFlaky(flaky);

    QTemporaryDir dir;
    const QString configPath = dir.filePath(QStringLiteral("config.yaml"));
    QByteArray config = "version: 1\nsettings:\n  apiKeys: [\"" + kKey +
                        "\"]\n  defaultChain: default\n  cooldownDefaultMs: 1000\n  requestTimeoutMs: 10000\n"
                        "  streamIdleTimeoutMs: 3000\n  midStreamCooldownMs: 1000\n  dbPath: \"" +
                        dir.filePath(QStringLiteral("soak.db")).toUtf8() + "\"\nproviders:\n";
    QList<QPair<QByteArray, QString>> upstreams{{"garbage", garbage.baseUrl()},
                                                {"cut", cut.baseUrl()},
                                                {"chatter", chatter.baseUrl()},
                                                {"flaky", flaky.baseUrl()},
                                                {"good", good->baseUrl()}};
    const QStringList faults =
        parser.isSet(noFaultsOpt) ? QStringList() : parser.value(faultsOpt).split(QLatin1Char(','));
    upstreams.erase(std::remove_if(upstreams.begin(), upstreams.end(),
                                   [&](const auto &u) {
                                       return u.first != "good" &&
                                              !faults.contains(QString::fromLatin1(u.first));
                                   }),
                    upstreams.end());
    for (const auto &[id, url] : upstreams)
        config += "  - {id: " + id + ", name: " + id + ", type: generic-openai, apiKey: sk-" + id +
                  ", timeout: 10000, baseUrl: \"" + url.toUtf8() + "\"}\n";
    config += "chains:\n  - name: default\n    entries:\n";
    for (const auto &upstream : upstreams)
        config += "      - {provider: " + upstream.first + ", model: m}\n";
    QFile file(configPath);
    if (!file.open(QIODevice::WriteOnly) || file.write(config) != config.size())
        return 2;
    file.close();

    QProcess proxy;
    proxy.setProcessChannelMode(QProcess::MergedChannels);
    QByteArray output;
    QObject::connect(&proxy, &QProcess::readyRead, [&] {
        output += proxy.readAll();
        if (output.size() > 4 * 1024 * 1024)
            output = output.right(1024 * 1024); // the tail is enough for a report
    });
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"CONFIG_PATH", "PORT", "HOST", "LOG_LEVEL", "LOG_FORMAT"})
        env.remove(QLatin1String(name));
    proxy.setProcessEnvironment(env);
    proxy.start(parser.value(binaryOpt),
                {QStringLiteral("--headless"), QStringLiteral("-c"), configPath, QStringLiteral("-p"),
                 QStringLiteral("0"), QStringLiteral("--host"), QStringLiteral("127.0.0.1")});
    const QRegularExpression listening(QStringLiteral("listening on http://[^:]+:(\\d+)/v1"));
    quint16 port = 0;
    QElapsedTimer wait;
    wait.start();
    while (port == 0 && wait.elapsed() < 30000 && proxy.state() != QProcess::NotRunning) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        const auto m = listening.match(QString::fromUtf8(output));
        if (m.hasMatch())
            port = quint16(m.captured(1).toUInt());
    }
    if (port == 0) {
        say(QStringLiteral("the proxy did not start:\n") + QString::fromUtf8(output));
        return 2;
    }
    const qint64 pid = proxy.processId();
    say(QStringLiteral("proxy pid %1 on port %2; soaking for %3 min with %4 requests in flight")
            .arg(pid)
            .arg(port)
            .arg(minutes)
            .arg(parallel));

    Stats stats;
    Driver driver(port, parallel, stats);
    QTimer refill;
    QObject::connect(&refill, &QTimer::timeout, [&] { feedFlaky(flaky); });
    refill.start(100);
    // Failing entries cool down (30 s, doubling): forget that every few seconds so the faults keep coming.
    QNetworkAccessManager admin;
    QTimer forget;
    QObject::connect(&forget, &QTimer::timeout, [&] {
        for (const QString &id : faults) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/v1/admin/ratelimits/reset").arg(port)));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            req.setRawHeader("Authorization", "Bearer " + kKey);
            QNetworkReply *reply = admin.post(req, "{\"provider\":\"" + id.toUtf8() + "\"}");
            QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
        }
    });
    if (!faults.isEmpty())
        forget.start(2000);

    // Start figures after a warm-up, so caches and pools are filled.
    QElapsedTimer clock;
    clock.start();
    const qint64 warmupMs = qMin<qint64>(20000, qint64(minutes * 60000 / 10));
    while (clock.elapsed() < warmupMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
    const qint64 rssStart = ProcessProbe::rssKiB(pid);
    const int fdsStart = ProcessProbe::openFds(pid);
    say(QStringLiteral("start: RSS %1 MiB, %2 open files").arg(rssStart / 1024.0, 0, 'f', 1).arg(fdsStart));

    const qint64 endMs = qint64(minutes * 60000);
    qint64 nextReport = clock.elapsed() + 30000;
    while (clock.elapsed() < endMs && proxy.state() == QProcess::Running) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
        if (clock.elapsed() >= nextReport) {
            nextReport += 30000;
            say(QStringLiteral("%1 ok (%2 streamed), %3 errors, %4 hang-ups; RSS %5 MiB, %6 open files")
                    .arg(stats.ok)
                    .arg(stats.okStream)
                    .arg(stats.errors)
                    .arg(stats.clientHangups)
                    .arg(ProcessProbe::rssKiB(pid) / 1024.0, 0, 'f', 1)
                    .arg(ProcessProbe::openFds(pid)));
        }
    }
    driver.stop();
    forget.stop();
    // Let what is in flight finish, then measure at rest.
    QElapsedTimer drain;
    drain.start();
    while (driver.inFlight() > 0 && drain.elapsed() < 60000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
    const qint64 settle = drain.elapsed() + 3000;
    while (drain.elapsed() < settle)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
    const bool alive = proxy.state() == QProcess::Running;
    const qint64 rssEnd = alive ? ProcessProbe::rssKiB(pid) : -1;
    const int fdsEnd = alive ? ProcessProbe::openFds(pid) : -1;

    const int injectedFlaky = flaky.requestCount();
    int goodRequests = 0;
    QMetaObject::invokeMethod(
        good, [&] { goodRequests = good->requestCount(); }, Qt::BlockingQueuedConnection);
    say(QStringLiteral("end: RSS %1 MiB, %2 open files").arg(rssEnd / 1024.0, 0, 'f', 1).arg(fdsEnd));
    say(QStringLiteral("requests: %1 ok (%2 streamed), %3 client hang-ups (injected)")
            .arg(stats.ok)
            .arg(stats.okStream)
            .arg(stats.clientHangups));
    say(QStringLiteral("upstream faults met: garbage %1, cut mid-chunk %2, chatter %3, flaky provider %4 "
                       "requests (about 45% faulty), healthy provider %5")
            .arg(garbage.requests())
            .arg(cut.requests())
            .arg(chatter.requests())
            .arg(injectedFlaky)
            .arg(goodRequests));
    say(QStringLiteral("errors not injected: %1").arg(stats.errors));
    for (const QString &sample : stats.errorSamples)
        say(QStringLiteral("  ") + sample);

    proxy.terminate();
    const bool exited = proxy.waitForFinished(30000);
    if (alive && (!exited || proxy.exitStatus() != QProcess::NormalExit || proxy.exitCode() != 0)) {
        // A clean SIGTERM exits 0; under the sanitizers a leak report also lands here.
        say(QStringLiteral("FAIL: the proxy did not exit cleanly after SIGTERM (exit code %1):\n")
                .arg(proxy.exitCode()) +
            QString::fromUtf8(output.right(8000)));
        return 1;
    }
    if (!alive) {
        say(QStringLiteral("FAIL: the proxy exited during the soak:\n") +
            QString::fromUtf8(output.right(4000)));
        return 1;
    }
    if (stats.errors > 0) {
        say(QStringLiteral("FAIL: %1 errors that were not injected").arg(stats.errors));
        return 1;
    }
    if (fdsEnd > fdsStart + 8) {
        say(QStringLiteral("FAIL: open files grew from %1 to %2").arg(fdsStart).arg(fdsEnd));
        return 1;
    }
    if (stats.ok == 0) {
        say(QStringLiteral("FAIL: no request succeeded"));
        return 1;
    }
    say(QStringLiteral("PASS"));
    return 0;
}
