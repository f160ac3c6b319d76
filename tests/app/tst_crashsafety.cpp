// The real binary under load, killed: after `kill -9` and a restart the request log passes
// PRAGMA integrity_check and misses at most the last second of rows, the limiter state is back and the
// config file (rewritten by admin calls during the load) is whole; after SIGTERM nothing is missing.

#include "configloader.h"
#include "httpclient.h"
#include "simulatedprovider.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;

namespace {
constexpr int kListenTimeoutMs = 20000;
constexpr int kExitTimeoutMs = 20000;
const QByteArray kKey = "crash-key";

// Clients that keep `parallel` requests in flight (streamed and whole, mixed) and an admin writer that
// rewrites the config file, until stopped. Every answer is kept with the wall-clock time it arrived.
class Load : public QObject
{
public:
    Load(quint16 port, int parallel) : m_port(port)
    {
        for (int i = 0; i < parallel; ++i)
            send(i);
        sendAdmin();
    }
    void stop() { m_stopped = true; }
    int okCount() const { return int(m_okAtMs.size()); }
    int okBefore(qint64 ms) const
    {
        return int(std::count_if(m_okAtMs.begin(), m_okAtMs.end(), [ms](qint64 t) { return t < ms; }));
    }
    int otherCount() const { return m_other; }
    int adminWrites() const { return m_adminWrites; }

private:
    QNetworkRequest request(const QString &path) const
    {
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        req.setRawHeader("Authorization", "Bearer " + kKey);
        return req;
    }
    void send(int slot)
    {
        if (m_stopped)
            return;
        const bool stream = (m_serial++ % 2) == 0;
        QNetworkReply *reply = m_nam.post(request(QStringLiteral("/v1/chat/completions")),
                                          HttpClient::chatBody(QStringLiteral("default"), stream));
        connect(reply, &QNetworkReply::finished, this, [this, reply, slot, stream] {
            reply->deleteLater();
            const QByteArray body = reply->readAll();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (status == 200 && (!stream || body.contains("data: [DONE]")))
                m_okAtMs.append(QDateTime::currentMSecsSinceEpoch());
            else if (reply->error() != QNetworkReply::RemoteHostClosedError &&
                     reply->error() != QNetworkReply::ConnectionRefusedError)
                ++m_other;
            send(slot);
        });
    }
    void sendAdmin()
    {
        if (m_stopped)
            return;
        const QByteArray body = "{\"entries\":[{\"provider\":\"a\",\"model\":\"m" +
                                QByteArray::number(m_adminWrites % 7) + "\"}]}";
        QNetworkReply *reply = m_nam.put(request(QStringLiteral("/v1/admin/chains/extra")), body);
        connect(reply, &QNetworkReply::finished, this, [this, reply] {
            reply->deleteLater();
            if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200)
                ++m_adminWrites;
            sendAdmin();
        });
    }

    QNetworkAccessManager m_nam;
    quint16 m_port;
    bool m_stopped = false;
    int m_serial = 0;
    QList<qint64> m_okAtMs;
    int m_other = 0;
    int m_adminWrites = 0;
};
} // namespace

class TestCrashSafety : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    SimulatedProvider m_served;
    SimulatedProvider m_limited;
    std::unique_ptr<QProcess> m_proxy;
    QByteArray m_output;
    quint16 m_port = 0;

    QString configPath() const { return m_dir.filePath(QStringLiteral("config.yaml")); }
    QString dbPath() const { return m_dir.filePath(QStringLiteral("requests.db")); }

    bool startProxy()
    {
        m_output.clear();
        m_port = 0;
        m_proxy = std::make_unique<QProcess>();
        m_proxy->setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"CONFIG_PATH", "PORT", "HOST", "LOG_LEVEL", "LOG_FORMAT"})
            env.remove(QLatin1String(name));
        m_proxy->setProcessEnvironment(env);
        connect(m_proxy.get(), &QProcess::readyRead, this, [this] { m_output += m_proxy->readAll(); });
        m_proxy->start(QStringLiteral(CHAIN_BINARY),
                       {QStringLiteral("--headless"), QStringLiteral("-c"), configPath(),
                        QStringLiteral("-p"), QStringLiteral("0")});
        const QRegularExpression listening(QStringLiteral("listening on http://[^:]+:(\\d+)/v1"));
        const bool up = QTest::qWaitFor(
            [&] {
                const auto m = listening.match(QString::fromUtf8(m_output));
                if (m.hasMatch())
                    m_port = quint16(m.captured(1).toUInt());
                return m_port != 0 || m_proxy->state() == QProcess::NotRunning;
            },
            kListenTimeoutMs);
        return up && m_port != 0;
    }

    // Rows in the request log, after an integrity check; -1 if the database is damaged or unreadable.
    int checkedRowCount(QString *problem)
    {
        int rows = -1;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
            db.setDatabaseName(dbPath());
            if (!db.open()) {
                *problem = db.lastError().text();
            } else {
                QSqlQuery q(db);
                if (!q.exec(QStringLiteral("PRAGMA integrity_check")) || !q.next() ||
                    q.value(0).toString() != QLatin1String("ok")) {
                    *problem = QStringLiteral("integrity_check: ") + q.value(0).toString();
                } else if (q.exec(QStringLiteral("SELECT COUNT(*) FROM requests")) && q.next()) {
                    rows = q.value(0).toInt();
                }
            }
        }
        QSqlDatabase::removeDatabase(QStringLiteral("check"));
        return rows;
    }

    QJsonObject limitedEntry()
    {
        const auto r = HttpClient::get(QStringLiteral("http://127.0.0.1:%1/v1/ratelimits").arg(m_port),
                                       {{"Authorization", "Bearer " + kKey}});
        for (const auto &v : r.json().value(QLatin1String("ratelimits")).toArray()) {
            const QJsonObject o = v.toObject();
            if (o.value(QLatin1String("provider")).toString() == QLatin1String("limited"))
                return o;
        }
        return {};
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_served.listen());
        QVERIFY(m_limited.listen());
        m_served.setReply(QStringLiteral("one two three four"));
        m_served.setChunkDelayMs(2);
        m_limited.setDefaultStep(Step::rateLimited(3600)); // an hour: only a restored limiter skips it
        const QByteArray config = "version: 1\nsettings:\n  apiKeys: [\"" + kKey +
                                  "\"]\n  defaultChain: default\n  dbPath: \"" + dbPath().toUtf8() +
                                  "\"\nproviders:\n"
                                  "  - {id: limited, name: Limited, type: groq, apiKey: k1, baseUrl: \"" +
                                  m_limited.baseUrl().toUtf8() +
                                  "\"}\n"
                                  "  - {id: a, name: A, type: openai, apiKey: k2, baseUrl: \"" +
                                  m_served.baseUrl().toUtf8() +
                                  "\"}\n"
                                  "chains:\n  - name: default\n    entries:\n"
                                  "      - {provider: limited, model: m}\n      - {provider: a, model: m}\n";
        QFile file(configPath());
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(config);
    }

    void cleanupTestCase()
    {
        if (m_proxy && m_proxy->state() != QProcess::NotRunning) {
            m_proxy->kill();
            m_proxy->waitForFinished(kExitTimeoutMs);
        }
    }

    void killNineUnderLoad()
    {
        QVERIFY2(startProxy(), m_output.constData());
        Load load(m_port, 8);
        // Enough load that rows, limiter state and config writes are all in flight.
        QTRY_VERIFY_WITH_TIMEOUT(load.okCount() >= 300 && load.adminWrites() >= 20, 120000);
        // The limiter state is saved at most once a second: wait until a save names the cooled entry.
        QTRY_COMPARE_WITH_TIMEOUT(limitedEntry().value(QLatin1String("status")).toString(),
                                  QStringLiteral("exhausted"), 10000);
        QTest::qWait(1500);
        const qint64 killedAtMs = QDateTime::currentMSecsSinceEpoch();
        m_proxy->kill(); // SIGKILL
        QVERIFY(m_proxy->waitForFinished(kExitTimeoutMs));
        load.stop();
        const int answeredSecondBefore = load.okBefore(killedAtMs - 1000);
        QCOMPARE(load.otherCount(), 0);

        QString problem;
        const int rows = checkedRowCount(&problem);
        QVERIFY2(rows >= 0, qPrintable(problem));
        qInfo() << "kill -9 after" << load.okCount() << "answers and" << load.adminWrites()
                << "config writes;" << rows << "rows kept," << answeredSecondBefore
                << "answered more than a second before";
        QVERIFY2(rows >= answeredSecondBefore,
                 qPrintable(QStringLiteral("%1 rows < %2 answered").arg(rows).arg(answeredSecondBefore)));
        for (const QString &path : QStringList{configPath(), configPath() + QStringLiteral(".bak")}) {
            const ConfigLoadResult loaded = ConfigLoader::loadFile(path);
            QVERIFY2(loaded.ok(),
                     qPrintable(path + QLatin1Char(' ') + loaded.errors.join(QLatin1Char('\n'))));
            QVERIFY(loaded.config->chain(QStringLiteral("extra")));
        }

        // Restart: the cooled entry is still known to be exhausted, so it is skipped without a request.
        const int limitedBefore = m_limited.requestCount();
        QVERIFY2(startProxy(), m_output.constData());
        const QJsonObject entry = limitedEntry();
        QCOMPARE(entry.value(QLatin1String("status")).toString(), QStringLiteral("exhausted"));
        const auto r = HttpClient::post(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_port),
                                        HttpClient::chatBody(QStringLiteral("default"), false),
                                        {{"Authorization", "Bearer " + kKey}});
        QCOMPARE(r.status, 200);
        QCOMPARE(m_limited.requestCount(), limitedBefore);
    }

    void sigtermLosesNothing()
    {
        QVERIFY(m_proxy && m_proxy->state() == QProcess::Running);
        QString problem;
        const int rowsBefore = checkedRowCount(&problem);
        QVERIFY2(rowsBefore >= 0, qPrintable(problem));
        Load load(m_port, 8);
        QTRY_VERIFY_WITH_TIMEOUT(load.okCount() >= 200, 120000);
        m_proxy->terminate(); // SIGTERM
        QVERIFY(m_proxy->waitForFinished(kExitTimeoutMs));
        load.stop();
        QCOMPARE(m_proxy->exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_proxy->exitCode(), 0);
        const int rows = checkedRowCount(&problem);
        QVERIFY2(rows >= 0, qPrintable(problem));
        // Every answered request is in the log (+1: the request sent after the restart above).
        qInfo() << "SIGTERM after" << load.okCount() << "answers:" << rows - rowsBefore << "new rows";
        QVERIFY2(rows - rowsBefore >= load.okCount(),
                 qPrintable(
                     QStringLiteral("%1 new rows < %2 answered").arg(rows - rowsBefore).arg(load.okCount())));
        const ConfigLoadResult loaded = ConfigLoader::loadFile(configPath());
        QVERIFY(loaded.ok());
    }
};

QTEST_MAIN(TestCrashSafety)
#include "tst_crashsafety.moc"
