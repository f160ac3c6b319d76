// ConfigWatcher: edits on disk are applied live, bad ones are rejected with a reason, files replaced by
// rename are followed, and the service's own writes do not come back as reloads.

#include "clock.h"
#include "configloader.h"
#include "configwatcher.h"
#include "proxyservice.h"

#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>
#include <memory>

namespace {

constexpr int kTimeoutMs = 15'000;
constexpr int kSettleMs = 1'000; // several debounce periods: long enough for a reload that should not happen

const QByteArray kConfig = "version: 1\n"
                           "settings:\n"
                           "  apiKeys: [\"proxy-key\"]\n"
                           "  defaultChain: default\n"
                           "providers:\n"
                           "  - { id: groq, name: Groq, type: groq, apiKey: \"gsk\" }\n"
                           "chains:\n"
                           "  - name: default\n"
                           "    entries:\n"
                           "      - { provider: groq, model: llama }\n";

QByteArray withChain(const QString &name)
{
    return kConfig + "  - name: " + name.toUtf8() + "\n    entries:\n      - { provider: groq, model: m }\n";
}

bool writeAll(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

int countKind(ProxyService &service, const QString &kind)
{
    int n = 0;
    for (const EventLog::Event &e : service.events().recent(0, 1000))
        n += e.kind == kind ? 1 : 0;
    return n;
}

struct Fixture
{
    QTemporaryDir dir;
    QString path = dir.filePath(QStringLiteral("config.yaml"));
    ManualClock clock;
    std::unique_ptr<ProxyService> service;
    std::unique_ptr<ConfigWatcher> watcher;

    bool start()
    {
        if (!writeAll(path, kConfig))
            return false;
        const ConfigLoadResult loaded = ConfigLoader::loadFile(path);
        if (!loaded.ok())
            return false;
        service = std::make_unique<ProxyService>(*loaded.config, clock);
        watcher = std::make_unique<ConfigWatcher>(*service);
        return watcher->path() == QFileInfo(path).absoluteFilePath();
    }

    bool hasChain(const QString &name) const { return service->config()->chain(name) != nullptr; }
};

} // namespace

class TestConfigWatcher : public QObject
{
    Q_OBJECT

private slots:
    void goodEditIsApplied()
    {
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy changed(f.service.get(), &ProxyService::configChanged);
        QVERIFY(writeAll(f.path, withChain(QStringLiteral("added"))));
        QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(QStringLiteral("added")), kTimeoutMs);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(countKind(*f.service, QStringLiteral("config_reloaded")), 1);

        // And the next edit too (the file stays watched).
        QVERIFY(writeAll(f.path, withChain(QStringLiteral("second"))));
        QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(QStringLiteral("second")), kTimeoutMs);
        QVERIFY(!f.hasChain(QStringLiteral("added")));
    }

    void badEditKeepsTheRunningConfig()
    {
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy attempts(f.watcher.get(), &ConfigWatcher::reloadAttempted);
        const auto running = f.service->config();
        QByteArray bad = withChain(QStringLiteral("broken"));
        bad.replace("model: m }\n", "model: m }\n      - { provider: nope, model: x }\n");
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("rejected, running config kept: .*"
                                                               "\"nope\" is not the id of a provider")));
        QVERIFY(writeAll(f.path, bad));
        QTRY_COMPARE_WITH_TIMEOUT(countKind(*f.service, QStringLiteral("config_rejected")), 1, kTimeoutMs);
        QCOMPARE(attempts.size(), 1);
        QCOMPARE(attempts.first().first().toBool(), false);
        QCOMPARE(f.service->config(), running);
        const EventLog::Event rejected = f.service->events().recent().last();
        QCOMPARE(rejected.level, QStringLiteral("error"));
        QVERIFY2(rejected.message.contains(QLatin1String(
                     ":14: chains[1].entries[1].provider: \"nope\" is not the id of a provider")),
                 qPrintable(rejected.message));

        // The same bad content again is not reported again.
        QVERIFY(writeAll(f.path, bad));
        QTest::qWait(kSettleMs);
        QCOMPARE(countKind(*f.service, QStringLiteral("config_rejected")), 1);

        // Fixed: applied.
        QVERIFY(writeAll(f.path, withChain(QStringLiteral("fixed"))));
        QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(QStringLiteral("fixed")), kTimeoutMs);
        QCOMPARE(countKind(*f.service, QStringLiteral("config_rejected")), 1);
    }

    void replaceByRenameIsFollowed()
    {
        Fixture f;
        QVERIFY(f.start());
        for (const QString &name : {QStringLiteral("renamed1"), QStringLiteral("renamed2")}) {
            // As editors and `mv` do: a new file takes the old one's name; the watched inode is gone.
            const QString temp = f.dir.filePath(QStringLiteral(".config.yaml.swp"));
            QVERIFY(writeAll(temp, withChain(name)));
            QCOMPARE(std::rename(QFile::encodeName(temp).constData(), QFile::encodeName(f.path).constData()),
                     0);
            QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(name), kTimeoutMs);
        }
        QCOMPARE(countKind(*f.service, QStringLiteral("config_reloaded")), 2);
    }

    void ownWritesDoNotReload()
    {
        Fixture f;
        QVERIFY(f.start());
        QSignalSpy attempts(f.watcher.get(), &ConfigWatcher::reloadAttempted);
        ChainConfig chain;
        chain.name = QStringLiteral("viaAdmin");
        chain.entries = {{QStringLiteral("groq"), QStringLiteral("m"), 0, std::nullopt}};
        QVERIFY(f.service->upsertChain(chain).ok());
        Settings settings = f.service->fileConfig()->settings;
        settings.cooldownDefaultMs = 5000;
        QVERIFY(f.service->updateSettings(settings).ok());
        QTest::qWait(kSettleMs);
        QCOMPARE(attempts.size(), 0);
        QCOMPARE(countKind(*f.service, QStringLiteral("config_reloaded")), 0);
        QCOMPARE(countKind(*f.service, QStringLiteral("config_changed")), 2);

        // The watcher is alive: an outside edit still comes through.
        QVERIFY(writeAll(f.path, withChain(QStringLiteral("outside"))));
        QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(QStringLiteral("outside")), kTimeoutMs);
        QVERIFY(!f.hasChain(QStringLiteral("viaAdmin")));
    }

    void deletedThenRecreated()
    {
        Fixture f;
        QVERIFY(f.start());
        QVERIFY(QFile::remove(f.path));
        QTest::qWait(kSettleMs);
        QVERIFY(f.hasChain(QStringLiteral("default"))); // a missing file changes nothing
        QVERIFY(writeAll(f.path, withChain(QStringLiteral("back"))));
        QTRY_VERIFY_WITH_TIMEOUT(f.hasChain(QStringLiteral("back")), kTimeoutMs);
    }

    void withoutAFileNothingIsWatched()
    {
        ManualClock clock;
        const ConfigLoadResult loaded = ConfigLoader::loadString(kConfig, QStringLiteral("memory"));
        QVERIFY(loaded.ok());
        ProxyService service(*loaded.config, clock);
        ConfigWatcher watcher(service);
        QVERIFY(watcher.path().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestConfigWatcher)
#include "tst_configwatcher.moc"
