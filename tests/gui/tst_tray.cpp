// The tray icon on a real X server: Xvfb with trayer (an XEmbed system tray) started by this test. The icon
// appears and changes with the health, the menu opens on a right click, its actions work (clipboard, pause,
// start at login), notifications are rate-limited, and a second launch of the app raises the first.

#include "autostart.h"
#include "guiharness.h"
#include "proxyservice.h"
#include "simulatedprovider.h"
#include "trayicon.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QImage>
#include <QMenu>
#include <QProcess>
#include <QScreen>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <cstdio>
#include <optional>

namespace {

// Xvfb on a free display (it picks one and tells it on -displayfd) and trayer on it.
class XSession
{
public:
    ~XSession() { stop(); }

    bool start(QString *error)
    {
        const QString xvfb = QStandardPaths::findExecutable(QStringLiteral("Xvfb"));
        const QString trayer = QStandardPaths::findExecutable(QStringLiteral("trayer"));
        if (xvfb.isEmpty() || trayer.isEmpty()) {
            *error = QStringLiteral(
                "Xvfb and trayer are needed (Debian: xvfb, trayer; scripts/test installs them)");
            return false;
        }
        m_xvfb.start(xvfb, {QStringLiteral("-displayfd"), QStringLiteral("1"), QStringLiteral("-screen"),
                            QStringLiteral("0"), QStringLiteral("1024x768x24"), QStringLiteral("-nolisten"),
                            QStringLiteral("tcp")});
        QByteArray number;
        while (!number.contains('\n') && m_xvfb.waitForReadyRead(15000))
            number += m_xvfb.readAllStandardOutput();
        if (!number.contains('\n')) {
            *error = QStringLiteral("Xvfb did not start: ") +
                     QString::fromLocal8Bit(m_xvfb.readAllStandardError());
            return false;
        }
        m_display = QStringLiteral(":") + QString::fromLatin1(number.trimmed());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DISPLAY"), m_display);
        m_trayer.setProcessEnvironment(env);
        m_trayer.start(trayer,
                       {QStringLiteral("--edge"), QStringLiteral("top"), QStringLiteral("--align"),
                        QStringLiteral("right"), QStringLiteral("--widthtype"), QStringLiteral("request"),
                        QStringLiteral("--height"), QStringLiteral("32"), QStringLiteral("--transparent"),
                        QStringLiteral("false"), QStringLiteral("--tint"), QStringLiteral("0x303030")});
        if (!m_trayer.waitForStarted(10000)) {
            *error = QStringLiteral("trayer did not start: ") + m_trayer.errorString();
            return false;
        }
        return true;
    }

    void stop()
    {
        for (QProcess *p : {&m_trayer, &m_xvfb}) {
            if (p->state() != QProcess::NotRunning) {
                p->terminate();
                if (!p->waitForFinished(5000)) {
                    p->kill();
                    p->waitForFinished(5000);
                }
            }
        }
    }

    QString display() const { return m_display; }

private:
    QProcess m_xvfb;
    QProcess m_trayer;
    QString m_display;
};

// How many pixels of the icon's area are near `colour`.
int pixelsNear(const QImage &image, QColor colour)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (qAbs(c.red() - colour.red()) < 24 && qAbs(c.green() - colour.green()) < 24 &&
                qAbs(c.blue() - colour.blue()) < 24)
                ++count;
        }
    }
    return count;
}

// The window Qt made for the icon (XEmbed: trayer reparents it into its panel).
QWidget *trayWindow()
{
    for (QWidget *w : QApplication::topLevelWidgets()) {
        if (w->inherits("QSystemTrayIconSys") && w->isVisible())
            return w;
    }
    return nullptr;
}

// Where the X server shows a window, and whether it is embedded (its parent is not the root window).
struct XWindowInfo
{
    QRect rect;
    bool embedded = false;
};

std::optional<XWindowInfo> xwininfo(WId window)
{
    QProcess p;
    p.start(QStringLiteral("xwininfo"), {QStringLiteral("-children"), QStringLiteral("-stats"),
                                         QStringLiteral("-id"), QString::number(window)});
    if (!p.waitForFinished(10000) || p.exitCode() != 0)
        return std::nullopt;
    const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
    auto value = [&](const QString &key) {
        const int at = out.indexOf(key);
        return at < 0 ? QString() : out.mid(at + key.size()).section(QLatin1Char('\n'), 0, 0).trimmed();
    };
    XWindowInfo info;
    info.rect = QRect(value(QStringLiteral("Absolute upper-left X:")).toInt(),
                      value(QStringLiteral("Absolute upper-left Y:")).toInt(),
                      value(QStringLiteral("Width:")).toInt(), value(QStringLiteral("Height:")).toInt());
    const QString root = value(QStringLiteral("Root window id:")).section(QLatin1Char(' '), 0, 0);
    const QString parent = value(QStringLiteral("Parent window id:")).section(QLatin1Char(' '), 0, 0);
    info.embedded = !parent.isEmpty() && parent != root;
    return info;
}

QAction *action(TrayIcon &tray, const char *name)
{
    return tray.menu()->findChild<QAction *>(QLatin1String(name));
}

} // namespace

class TestTray : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void iconAppearsAndShowsHealth();
    void menuOpensOnRightClick();
    void copyActions();
    void pauseAndResume();
    void startAtLogin();
    void tooltipCountsToday();
    void notificationsAreRateLimited();
    void openAndQuitSignals();
    void secondLaunchRaisesTheFirst();
    void firstRunOffersTheDemo();

private:
    QImage grabIcon();
};

void TestTray::initTestCase()
{
    QVERIFY2(QSystemTrayIcon::isSystemTrayAvailable() ||
                 GuiHarness::waitFor([] { return QSystemTrayIcon::isSystemTrayAvailable(); }, 15000),
             "trayer did not become the system tray");
}

QImage TestTray::grabIcon()
{
    // From the screen (the root window), where trayer shows the icon: what a user sees.
    QWidget *w = trayWindow();
    const auto info = w ? xwininfo(w->winId()) : std::nullopt;
    if (!info || info->rect.isEmpty())
        return {};
    const QRect r = info->rect;
    return QGuiApplication::primaryScreen()->grabWindow(0, r.x(), r.y(), r.width(), r.height()).toImage();
}

void TestTray::iconAppearsAndShowsHealth()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    // Qt's icon window was embedded into trayer's panel (XEmbed), inside the screen.
    QVERIFY(GuiHarness::waitFor([&] {
        QWidget *w = trayWindow();
        const auto info = w ? xwininfo(w->winId()) : std::nullopt;
        return info && info->embedded && !info->rect.isEmpty() && QRect(0, 0, 1024, 768).contains(info->rect);
    }));
    // The app icon's teal is on screen where the tray put the icon.
    QVERIFY(GuiHarness::waitFor([&] { return pixelsNear(grabIcon(), QColor(0x0f, 0x76, 0x6e)) > 20; }));
    QCOMPARE(tray.health().level, Health::Level::Good);
    QVERIFY(tray.systemTrayIcon()->toolTip().contains(QStringLiteral("All providers available")));

    // Both entries of "default" cool down: the chain is exhausted, in red and in words.
    h.runOnEngine([&] {
        h.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(600));
        h.provider(QStringLiteral("beta"))->enqueue(SimulatedProvider::Step::rateLimited(600));
    });
    QCOMPARE(h.chat(QStringLiteral("default")).status, 429);
    QVERIFY(GuiHarness::waitFor([&] { return tray.health().level == Health::Level::Exhausted; }));
    QVERIFY(tray.systemTrayIcon()->toolTip().contains(QStringLiteral("Exhausted")));
    QVERIFY(GuiHarness::waitFor([&] { return pixelsNear(grabIcon(), QColor(0xb9, 0x1c, 0x1c)) > 20; }));
}

void TestTray::menuOpensOnRightClick()
{
    const QString xdotool = QStandardPaths::findExecutable(QStringLiteral("xdotool"));
    QVERIFY2(!xdotool.isEmpty(), "xdotool is needed (Debian: xdotool; scripts/test installs it)");
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    std::optional<XWindowInfo> info;
    QVERIFY(GuiHarness::waitFor([&] {
        QWidget *w = trayWindow();
        info = w ? xwininfo(w->winId()) : std::nullopt;
        return info && info->embedded && !info->rect.isEmpty();
    }));
    // Painted where the screen shows it (trayer may still move it right after embedding it).
    QVERIFY(GuiHarness::waitFor([&] { return pixelsNear(grabIcon(), QColor(0x0f, 0x76, 0x6e)) > 20; }));
    // A real right click there. A click that reaches the panel while trayer still rearranges its icons is
    // lost, as it would be for a user: click again after a pause, up to three times.
    for (int attempt = 0; attempt < 3 && !tray.menu()->isVisible(); ++attempt) {
        QWidget *w = trayWindow();
        info = w ? xwininfo(w->winId()) : std::nullopt;
        QVERIFY(info.has_value());
        const QPoint centre = info->rect.center();
        QProcess click;
        click.start(xdotool, {QStringLiteral("mousemove"), QString::number(centre.x()),
                              QString::number(centre.y()), QStringLiteral("click"), QStringLiteral("3")});
        QVERIFY(click.waitForFinished(10000));
        GuiHarness::waitFor([&] { return tray.menu()->isVisible(); }, 3000);
    }
    QVERIFY(tray.menu()->isVisible());
    QStringList texts;
    for (QAction *a : tray.menu()->actions()) {
        if (!a->isSeparator())
            texts << a->text();
    }
    QCOMPARE(texts, (QStringList{QStringLiteral("&Open 429chain"), QStringLiteral("Copy &base URL"),
                                 QStringLiteral("Copy API &key"), QStringLiteral("&Pause proxy"),
                                 QStringLiteral("Start at &login"), QStringLiteral("&Quit")}));
    tray.menu()->hide();
}

void TestTray::copyActions()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    action(tray, "copyBaseUrlAction")->trigger();
    QCOMPARE(QApplication::clipboard()->text(), h.bridge()->baseUrl());
    action(tray, "copyApiKeyAction")->trigger();
    QCOMPARE(QApplication::clipboard()->text(), QString::fromLatin1(GuiHarness::kApiKey));
}

void TestTray::pauseAndResume()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    QAction *pause = action(tray, "pauseAction");
    QCOMPARE(pause->text(), QStringLiteral("&Pause proxy"));
    pause->trigger();
    QVERIFY(GuiHarness::waitFor([&] { return h.bridge()->isPaused(); }));
    QCOMPARE(pause->text(), QStringLiteral("&Resume proxy"));
    QCOMPARE(tray.health().level, Health::Level::Paused);
    QVERIFY(tray.systemTrayIcon()->toolTip().contains(QStringLiteral("Paused")));
    QVERIFY(GuiHarness::waitFor([&] { return pixelsNear(grabIcon(), QColor(0x52, 0x52, 0x5b)) > 20; }));
    QCOMPARE(h.chat(QStringLiteral("default")).status, 503); // the proxy really refuses

    pause->trigger();
    QVERIFY(GuiHarness::waitFor([&] { return !h.bridge()->isPaused(); }));
    QCOMPARE(pause->text(), QStringLiteral("&Pause proxy"));
    QCOMPARE(h.chat(QStringLiteral("default")).status, 200);
}

void TestTray::startAtLogin()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    tray.setAutostartCommand(QStringLiteral("/usr/bin/429chain"), {QStringLiteral("--tray")});
    QAction *autostart = action(tray, "autostartAction");
    QVERIFY(!autostart->isChecked());
    autostart->trigger();
    QVERIFY(autostart->isChecked());
    QFile entry(Autostart::entryPath());
    QVERIFY2(entry.open(QIODevice::ReadOnly), qPrintable(Autostart::entryPath()));
    QVERIFY(entry.readAll().contains("Exec=/usr/bin/429chain --tray\n"));
    entry.close();
    autostart->trigger();
    QVERIFY(!autostart->isChecked());
    QVERIFY(!QFile::exists(Autostart::entryPath()));
}

void TestTray::tooltipCountsToday()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    QVERIFY(
        GuiHarness::waitFor([&] { return tray.toolTip().contains(QStringLiteral("Today: 0 requests")); }));
    QVERIFY(tray.toolTip().contains(h.bridge()->baseUrl()));
    QCOMPARE(h.chat(QStringLiteral("default")).status, 200);
    QVERIFY(GuiHarness::waitFor([&] {
        h.flushStore();
        return tray.systemTrayIcon()->toolTip().contains(QStringLiteral("Today: 1 requests"));
    }));
}

void TestTray::notificationsAreRateLimited()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QVERIFY(tray.show());
    QSignalSpy notified(&tray, &TrayIcon::notified);
    h.runOnEngine([&] {
        h.provider(QStringLiteral("beta"))->setDefaultStep(SimulatedProvider::Step::rateLimited(600));
        h.provider(QStringLiteral("alpha"))->setDefaultStep(SimulatedProvider::Step::rateLimited(600));
    });
    QCOMPARE(h.chat(QStringLiteral("backup")).status, 429);
    QVERIFY(GuiHarness::waitFor([&] { return notified.count() == 1; }));
    QVERIFY(notified.at(0).at(0).toString().contains(QStringLiteral("\"backup\" ran dry")));
    // Dry again at once: no second notification.
    QCOMPARE(h.chat(QStringLiteral("backup")).status, 429);
    QTest::qWait(300);
    QCOMPARE(notified.count(), 1);

    // It serves again: that is news once.
    h.runOnEngine([&] { h.provider(QStringLiteral("beta"))->setDefaultStep(SimulatedProvider::Step::ok()); });
    h.bridge()->resetLimits(QStringLiteral("beta"), QString());
    QVERIFY(GuiHarness::waitFor([&] { return h.chat(QStringLiteral("backup")).status == 200; }));
    QVERIFY(GuiHarness::waitFor([&] { return notified.count() == 2; }));
    QVERIFY(notified.at(1).at(0).toString().contains(QStringLiteral("serving again")));
}

void TestTray::openAndQuitSignals()
{
    GuiHarness h;
    QVERIFY(h.start());
    TrayIcon tray(h.bridge());
    QSignalSpy open(&tray, &TrayIcon::openRequested);
    QSignalSpy quit(&tray, &TrayIcon::quitRequested);
    action(tray, "openAction")->trigger();
    QCOMPARE(open.count(), 1);
    action(tray, "quitAction")->trigger();
    QCOMPARE(quit.count(), 1);
}

void TestTray::secondLaunchRaisesTheFirst()
{
    // The real program, twice, in GUI mode on this display with the demo providers.
    QTemporaryDir home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("CHAIN_INSTANCE_NAME"),
               QStringLiteral("429chain-tray-test-") + QUuid::createUuid().toString(QUuid::Id128));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    const QStringList args{QStringLiteral("--demo"), QStringLiteral("--port"), QStringLiteral("0"),
                           QStringLiteral("--tray")};
    QProcess first;
    first.setProcessEnvironment(env);
    first.setProcessChannelMode(QProcess::MergedChannels);
    first.start(QStringLiteral(CHAIN_BINARY), args);
    QByteArray firstOut;
    QVERIFY(GuiHarness::waitFor(
        [&] {
            firstOut += first.readAll();
            return firstOut.contains("listening on") || first.state() == QProcess::NotRunning;
        },
        30000));
    QVERIFY2(first.state() == QProcess::Running, firstOut.constData());

    QProcess second;
    second.setProcessEnvironment(env);
    second.setProcessChannelMode(QProcess::MergedChannels);
    second.start(QStringLiteral(CHAIN_BINARY), args);
    QVERIFY(GuiHarness::waitFor([&] { return second.state() == QProcess::NotRunning; }, 30000));
    const QByteArray secondOut = second.readAll();
    QCOMPARE(second.exitCode(), 0);
    QVERIFY2(secondOut.contains("already running"), secondOut.constData());
    QVERIFY2(!secondOut.contains("listening on"), secondOut.constData()); // it never took a port
    QVERIFY(GuiHarness::waitFor(
        [&] {
            firstOut += first.readAll();
            return firstOut.contains("window requested by a second launch");
        },
        15000));

    first.terminate(); // SIGTERM: the graceful stop
    QVERIFY(first.waitForFinished(30000));
    firstOut += first.readAll();
    QVERIFY2(first.exitStatus() == QProcess::NormalExit && first.exitCode() == 0, firstOut.constData());
}

void TestTray::firstRunOffersTheDemo()
{
    // No config anywhere: the real program opens the first-run dialog; Alt+D picks the demo providers.
    const QString xdotool = QStandardPaths::findExecutable(QStringLiteral("xdotool"));
    QVERIFY2(!xdotool.isEmpty(), "xdotool is needed (Debian: xdotool; scripts/test installs it)");
    QTemporaryDir home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("CHAIN_INSTANCE_NAME"),
               QStringLiteral("429chain-tray-test-") + QUuid::createUuid().toString(QUuid::Id128));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    env.remove(QStringLiteral("CONFIG_PATH"));
    QProcess app;
    app.setProcessEnvironment(env);
    app.setWorkingDirectory(home.path()); // no ./config/config.yaml here
    app.setProcessChannelMode(QProcess::MergedChannels);
    app.start(QStringLiteral(CHAIN_BINARY),
              {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--tray")});

    QProcess search;
    search.start(xdotool,
                 {QStringLiteral("search"), QStringLiteral("--sync"), QStringLiteral("--onlyvisible"),
                  QStringLiteral("--name"), QStringLiteral("^Welcome to 429chain$")});
    QVERIFY(GuiHarness::waitFor([&] { return search.state() == QProcess::NotRunning; }, 30000));
    const QString window =
        QString::fromLatin1(search.readAllStandardOutput()).section(QLatin1Char('\n'), 0, 0);
    QVERIFY2(!window.isEmpty(), app.readAll().constData());
    QByteArray out = app.readAll();
    QVERIFY2(!out.contains("listening on"), out.constData()); // nothing runs before the choice

    QProcess key;
    key.start(xdotool, {QStringLiteral("windowfocus"), QStringLiteral("--sync"), window,
                        QStringLiteral("key"), QStringLiteral("alt+d")});
    QVERIFY(key.waitForFinished(10000));
    QVERIFY(GuiHarness::waitFor(
        [&] {
            out += app.readAll();
            return out.contains("demo mode") || app.state() == QProcess::NotRunning;
        },
        30000));
    QVERIFY2(out.contains("listening on"), out.constData());
    // The demo writes no config: the next start asks again.
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/429chain/config.yaml"))));
    app.terminate();
    QVERIFY(app.waitForFinished(30000));
    QCOMPARE(app.exitCode(), 0);
}

int main(int argc, char *argv[])
{
    XSession x;
    QString error;
    if (!x.start(&error)) {
        std::fprintf(stderr, "FAIL: %s\n", qPrintable(error));
        return 1;
    }
    QTemporaryDir config;
    qputenv("DISPLAY", x.display().toUtf8());
    qputenv("QT_QPA_PLATFORM", "xcb");
    qputenv("XDG_CONFIG_HOME", config.path().toUtf8()); // the autostart entry goes here
    int rc = 0;
    {
        QApplication app(argc, argv);
        app.setQuitOnLastWindowClosed(false);
        TestTray test;
        rc = QTest::qExec(&test, argc, argv);
    }
    x.stop();
    return rc;
}

#include "tst_tray.moc"
