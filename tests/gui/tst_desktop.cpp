// The desktop shell, offscreen: the main window's navigation and status bar, the fallback when there is no
// tray, health in words, the single-instance handshake, the autostart entry and the first-run dialog.

#include "autostart.h"
#include "clientkey.h"
#include "configloader.h"
#include "desktopapp.h"
#include "guiharness.h"
#include "health.h"
#include "mainwindow.h"
#include "newchaindialog.h"
#include "onboardingdialog.h"
#include "providerdialog.h"
#include "singleinstance.h"

#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTabBar>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QToolButton>
#include <QUuid>

namespace {

// What a keyboard or screen reader user would miss in `root`: a control without an accessible name (its own,
// a buddy label's or its text) and an item view that catches Tab (Tab must leave a table; arrows move in it).
QStringList accessibilityProblems(QWidget *root)
{
    QStringList problems;
    const QString where = QLatin1String(root->metaObject()->className());
    for (QWidget *w : root->findChildren<QWidget *>()) {
        const QString what = QLatin1String(w->metaObject()->className()) + QLatin1Char(' ') + w->objectName();
        // Parts of another control (a spin box's line edit, a table's corner button, scroll arrows).
        bool part = false;
        for (QWidget *up = w->parentWidget(); up && up != root; up = up->parentWidget())
            part = part || qobject_cast<QAbstractSpinBox *>(up) || qobject_cast<QComboBox *>(up) ||
                   qobject_cast<QAbstractItemView *>(up) || qobject_cast<QTabBar *>(up) ||
                   qobject_cast<QScrollBar *>(up);
        if (part)
            continue;
        if (auto *view = qobject_cast<QAbstractItemView *>(w); view && view->tabKeyNavigation())
            problems << where + QLatin1String(": Tab moves between the cells of ") + what;
        const bool control = qobject_cast<QAbstractButton *>(w) || qobject_cast<QComboBox *>(w) ||
                             qobject_cast<QLineEdit *>(w) || qobject_cast<QAbstractSpinBox *>(w) ||
                             qobject_cast<QAbstractItemView *>(w) || qobject_cast<QPlainTextEdit *>(w);
        if (!control)
            continue;
        // Qt's own fallbacks differ by platform (a combo box on Linux reports its current text), so: the
        // control's name, a button's text, or a label that is its buddy.
        QString name = w->accessibleName();
        if (auto *button = qobject_cast<QAbstractButton *>(w); button && name.isEmpty())
            name = button->text().remove(QLatin1Char('&'));
        for (QLabel *label : root->findChildren<QLabel *>()) {
            if (name.isEmpty() && label->buddy() == w)
                name = label->text();
        }
        if (name.trimmed().isEmpty())
            problems << where + QLatin1String(": no accessible name on ") + what;
    }
    return problems;
}

} // namespace

class TestDesktop : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void healthInWords();
    void mainWindowStatusBar();
    void mainWindowRemembersGeometry();
    void everyControlNamedAndTabLeavesTables();
    void pageShortcutTakesTheFocusAlong();
    void withoutTrayTheWindowOpens();
    void singleInstanceActivatesTheFirst();
    void autostartEntry();
    void onboardingWritesAConfig();
    void onboardingShowsTheValidatorsError();
    void onboardingDemoChoice();

private:
    QTemporaryDir m_home;
};

void TestDesktop::initTestCase()
{
    QVERIFY(m_home.isValid());
    qputenv("XDG_CONFIG_HOME", m_home.filePath(QStringLiteral("config")).toUtf8());
    QCoreApplication::setOrganizationName(QStringLiteral("429chain-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_desktop"));
}

void TestDesktop::healthInWords()
{
    Config config;
    ChainConfig chain;
    chain.name = QStringLiteral("default");
    chain.entries = {{QStringLiteral("groq"), QStringLiteral("llama"), 0, std::nullopt},
                     {QStringLiteral("openrouter"), QStringLiteral("x:free"), 0, std::nullopt}};
    config.chains = {chain};
    const qint64 now = 1'000'000;
    QList<RateLimitTracker::PairStatus> limits;
    Health h = Health::compute(config, limits, false, now);
    QCOMPARE(h.level, Health::Level::Good);
    QCOMPARE(h.summary(), QStringLiteral("All providers available"));

    RateLimitTracker::PairStatus groq;
    groq.provider = QStringLiteral("groq");
    groq.model = QStringLiteral("llama");
    groq.state = RateLimitTracker::PairStatus::State::Exhausted;
    groq.cooldownUntilMs = now + 60'000;
    limits << groq;
    h = Health::compute(config, limits, false, now);
    QCOMPARE(h.level, Health::Level::Cooling);
    QVERIFY(h.summary().contains(QStringLiteral("groq/llama")));

    // OpenRouter's free pool covers the ":free" entry: the whole chain is dry.
    RateLimitTracker::PairStatus pool;
    pool.provider = QStringLiteral("openrouter");
    pool.model = RateLimitTracker::freeModelsPool();
    pool.state = RateLimitTracker::PairStatus::State::Exhausted;
    limits << pool;
    h = Health::compute(config, limits, false, now);
    QCOMPARE(h.level, Health::Level::Exhausted);
    QCOMPARE(h.exhaustedChains, QStringList{QStringLiteral("default")});
    QVERIFY(h.summary().contains(QStringLiteral("default")));

    // A cooldown that is over no longer counts; paused wins over everything.
    limits[0].cooldownUntilMs = now - 1;
    QCOMPARE(Health::compute(config, limits, false, now).level, Health::Level::Cooling);
    QCOMPARE(Health::compute(config, limits, true, now).level, Health::Level::Paused);
    for (auto level :
         {Health::Level::Good, Health::Level::Cooling, Health::Level::Exhausted, Health::Level::Paused})
        QVERIFY(!Health::icon(level).isNull());
}

void TestDesktop::mainWindowStatusBar()
{
    GuiHarness h;
    QVERIFY(h.start());
    MainWindow window(h.bridge());
    window.show();
    QVERIFY(
        window.findChild<QLabel *>(QStringLiteral("baseUrlLabel"))->text().contains(h.bridge()->baseUrl()));
    QVERIFY(window.statusText().contains(QStringLiteral("Running")));
    // The status bar's own button pauses and resumes (without a tray it is the only one).
    auto *pause = window.findChild<QToolButton *>(QStringLiteral("pauseButton"));
    QCOMPARE(pause->text(), QStringLiteral("Pause"));
    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return window.statusText().contains(QStringLiteral("Paused")); }));
    QVERIFY(h.bridge()->isPaused());
    QCOMPARE(pause->text(), QStringLiteral("Resume"));
    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(GuiHarness::waitFor([&] { return window.statusText().contains(QStringLiteral("Running")); }));
    QVERIFY(!h.bridge()->isPaused());
    // Every page is reachable by position.
    for (int i = 0; i < window.pageCount(); ++i) {
        window.showPage(i);
        QCOMPARE(window.currentPage(), i);
        QVERIFY(window.page(i)->isVisible());
    }
}

void TestDesktop::mainWindowRemembersGeometry()
{
    GuiHarness h;
    QVERIFY(h.start());
    {
        MainWindow window(h.bridge());
        window.show();
        window.resize(1000, 700);
        window.move(40, 50);
        if (window.pageCount() > 1)
            window.showPage(1);
        window.close(); // saves
    }
    MainWindow again(h.bridge());
    QCOMPARE(again.size(), QSize(1000, 700));
    if (again.pageCount() > 1)
        QCOMPARE(again.currentPage(), 1);
}

void TestDesktop::everyControlNamedAndTabLeavesTables()
{
    GuiHarness h;
    QVERIFY(h.start());
    MainWindow window(h.bridge());
    window.show();
    QStringList problems = accessibilityProblems(&window);
    OnboardingDialog onboarding(h.dataDir() + QStringLiteral("/new.yaml"), h.dataDir(),
                                h.bridge()->baseUrl());
    problems += accessibilityProblems(&onboarding);
    ProviderDialog provider(h.bridge(), h.bridge()->fileConfig()->provider(QStringLiteral("alpha")));
    problems += accessibilityProblems(&provider);
    NewChainDialog newChain(h.bridge());
    problems += accessibilityProblems(&newChain);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
}

void TestDesktop::pageShortcutTakesTheFocusAlong()
{
    GuiHarness h;
    QVERIFY(h.start());
    MainWindow window(h.bridge());
    window.show();
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QVERIFY(window.pageCount() > 1);
    // From a control of one page, Ctrl+<n> puts the keyboard on a control of page n (not on a hidden widget
    // or nowhere); from the navigation list it stays there.
    for (int i = window.pageCount() - 1; i >= 0; --i) {
        const int from = (i + 1) % window.pageCount();
        window.showPage(from);
        QWidget *control = nullptr;
        for (QWidget *w : window.page(from)->findChildren<QWidget *>()) {
            if (!control && w->isVisible() && w->isEnabled() && (w->focusPolicy() & Qt::TabFocus))
                control = w;
        }
        QVERIFY(control);
        control->setFocus();
        QVERIFY(window.page(from)->isAncestorOf(QApplication::focusWidget()));
        QTest::keyClick(&window, Qt::Key(Qt::Key_1 + i), Qt::ControlModifier);
        QCOMPARE(window.currentPage(), i);
        QWidget *focus = QApplication::focusWidget();
        QVERIFY2(focus && window.page(i)->isAncestorOf(focus) && focus->isVisible(),
                 qPrintable(QStringLiteral("page %1: focus on %2")
                                .arg(i)
                                .arg(focus ? QLatin1String(focus->metaObject()->className())
                                           : QLatin1String("nothing"))));
    }
    auto *navigation = window.findChild<QWidget *>(QStringLiteral("navigation"));
    navigation->setFocus();
    QTest::keyClick(&window, Qt::Key_2, Qt::ControlModifier);
    QCOMPARE(window.currentPage(), 1);
    QCOMPARE(QApplication::focusWidget(), navigation);
}

void TestDesktop::withoutTrayTheWindowOpens()
{
    QVERIFY(!QSystemTrayIcon::isSystemTrayAvailable()); // offscreen has none
    GuiHarness h;
    QVERIFY(h.start());
    DesktopApp::Options options;
    DesktopApp app(h.service(), nullptr, options);
    app.start(false); // "start in the tray" asked, but there is none
    QVERIFY(!app.hasTray());
    QVERIFY(app.window()->isVisible());
    // Closing the window is quitting then (nothing else would be left to reach the app).
    QSignalSpy quit(&app, &DesktopApp::quitRequested);
    app.window()->close();
    QCOMPARE(quit.count(), 1);
}

void TestDesktop::singleInstanceActivatesTheFirst()
{
    const QString name = QStringLiteral("429chain-test-") + QUuid::createUuid().toString(QUuid::Id128);
    SingleInstance first(name);
    QString error;
    QVERIFY2(first.listen(&error), qPrintable(error));
    QSignalSpy activated(&first, &SingleInstance::activationRequested);

    // The second launch blocks in its handshake: it runs on another thread while this one serves.
    std::atomic<int> answer{-1};
    QThread *second = QThread::create([&] {
        SingleInstance other(name);
        answer = other.activateRunning(10000) ? 1 : 0;
    });
    second->start();
    QVERIFY(GuiHarness::waitFor([&] { return answer != -1; }));
    second->wait();
    delete second;
    QCOMPARE(int(answer), 1);
    QCOMPARE(activated.count(), 1);

    // Nobody listening under a name: the launch goes on by itself.
    SingleInstance lonely(name + QStringLiteral("-none"));
    QVERIFY(!lonely.activateRunning(500));
}

void TestDesktop::autostartEntry()
{
    const QString path = Autostart::entryPath();
    QVERIFY(path.startsWith(m_home.path())); // XDG_CONFIG_HOME is honoured
    QVERIFY(path.endsWith(QStringLiteral("/autostart/429chain.desktop")));
    QVERIFY(!Autostart::isEnabled());
    QString error;
    QVERIFY2(Autostart::setEnabled(
                 true, QStringLiteral("/opt/my apps/429chain"),
                 {QStringLiteral("--tray"), QStringLiteral("--config"), QStringLiteral("/home/u/100%.yaml")},
                 &error),
             qPrintable(error));
    QVERIFY(Autostart::isEnabled());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    QVERIFY(text.startsWith("[Desktop Entry]\n"));
    QVERIFY(text.contains("Type=Application\n"));
    QVERIFY2(text.contains("Exec=\"/opt/my apps/429chain\" --tray --config /home/u/100%%.yaml\n"),
             text.constData());
    QVERIFY2(Autostart::setEnabled(false, QString(), {}, &error), qPrintable(error));
    QVERIFY(!QFile::exists(path));
}

void TestDesktop::onboardingWritesAConfig()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sub/config.yaml"));
    OnboardingDialog dialog(path, dir.path(), QStringLiteral("http://127.0.0.1:3429/v1"));
    dialog.show();
    const QString key = dialog.findChild<QLineEdit *>(QStringLiteral("apiKeyField"))->text();
    QVERIFY(key.startsWith(QStringLiteral("sk-429chain-")));
    QVERIFY(key.size() >= 40);
    QCOMPARE(dialog.findChild<QLineEdit *>(QStringLiteral("baseUrlField"))->text(),
             QStringLiteral("http://127.0.0.1:3429/v1"));
    QVERIFY(ClientKey::generate() != key);

    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("providerButton")), Qt::LeftButton);
    auto *type = dialog.findChild<QComboBox *>(QStringLiteral("typeCombo"));
    type->setCurrentText(QStringLiteral("groq"));
    QVERIFY(
        !dialog.findChild<QLineEdit *>(QStringLiteral("providerUrlField"))->text().isEmpty()); // the default
    // Nothing is written without a key.
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveButton")), Qt::LeftButton);
    QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("errorLabel"))->isVisible());
    QVERIFY(!QFile::exists(path));

    QTest::keyClicks(dialog.findChild<QLineEdit *>(QStringLiteral("providerKeyField")),
                     QStringLiteral("gsk_abc"));
    QTest::keyClicks(dialog.findChild<QLineEdit *>(QStringLiteral("modelField")),
                     QStringLiteral("llama-3.1-8b-instant"));
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveButton")), Qt::LeftButton);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(dialog.choice(), OnboardingDialog::Choice::Provider);

    const ConfigLoadResult loaded =
        ConfigLoader::loadFile(path, [](const QString &) { return std::optional<QString>(); });
    QVERIFY2(loaded.ok(), qPrintable(loaded.errors.join(QLatin1Char('\n'))));
    QCOMPARE(loaded.config->settings.apiKeys, QStringList{key});
    QCOMPARE(loaded.config->providers.size(), 1);
    QCOMPARE(loaded.config->providers.at(0).apiKey, QStringLiteral("gsk_abc"));
    QCOMPARE(loaded.config->chains.at(0).entries.at(0).model, QStringLiteral("llama-3.1-8b-instant"));
    QCOMPARE(loaded.config->settings.defaultChain, QStringLiteral("default"));
}

void TestDesktop::onboardingShowsTheValidatorsError()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("config.yaml"));
    OnboardingDialog dialog(path, dir.path(), QStringLiteral("http://127.0.0.1:3429/v1"));
    dialog.show();
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("providerButton")), Qt::LeftButton);
    dialog.findChild<QComboBox *>(QStringLiteral("typeCombo"))
        ->setCurrentText(QStringLiteral("generic-openai"));
    auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("providerUrlField"));
    QVERIFY(url->text().isEmpty()); // this type has no default: the core requires one
    QTest::keyClicks(dialog.findChild<QLineEdit *>(QStringLiteral("providerKeyField")), QStringLiteral("k"));
    QTest::keyClicks(dialog.findChild<QLineEdit *>(QStringLiteral("modelField")), QStringLiteral("m"));
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveButton")), Qt::LeftButton);
    auto *error = dialog.findChild<QLabel *>(QStringLiteral("errorLabel"));
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(QStringLiteral("baseUrl")), qPrintable(error->text()));
    QVERIFY(!QFile::exists(path));
    QCOMPARE(dialog.choice(), OnboardingDialog::Choice::None);
}

void TestDesktop::onboardingDemoChoice()
{
    QTemporaryDir dir;
    OnboardingDialog dialog(dir.filePath(QStringLiteral("config.yaml")), dir.path(),
                            QStringLiteral("http://x/v1"));
    dialog.show();
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("demoButton")), Qt::LeftButton);
    QCOMPARE(dialog.choice(), OnboardingDialog::Choice::Demo);
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("config.yaml")))); // the demo writes nothing
}

QTEST_MAIN(TestDesktop)
#include "tst_desktop.moc"
