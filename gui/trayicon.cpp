#include "trayicon.h"

#include "autostart.h"
#include "servicebridge.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QLocale>
#include <QMenu>
#include <QSystemTrayIcon>

namespace {
constexpr int kTodayRefreshDelayMs = 1000;
}

TrayIcon::TrayIcon(ServiceBridge *bridge, QObject *parent) : QObject(parent), m_bridge(bridge)
{
    m_program = QCoreApplication::applicationFilePath();
    m_tray = new QSystemTrayIcon(this);
    m_tray->setObjectName(QStringLiteral("trayIcon"));
    m_menu = new QMenu;
    m_menu->setObjectName(QStringLiteral("trayMenu"));

    m_open = m_menu->addAction(tr("&Open 429chain"), this, &TrayIcon::openRequested);
    m_open->setObjectName(QStringLiteral("openAction"));
    m_menu->setDefaultAction(m_open);
    m_menu->addSeparator();
    m_copyUrl = m_menu->addAction(tr("Copy &base URL"), this,
                                  [this] { QApplication::clipboard()->setText(m_bridge->baseUrl()); });
    m_copyUrl->setObjectName(QStringLiteral("copyBaseUrlAction"));
    m_copyKey = m_menu->addAction(tr("Copy API &key"), this, [this] {
        const QStringList keys = m_bridge->config()->settings.apiKeys;
        if (!keys.isEmpty())
            QApplication::clipboard()->setText(keys.first());
    });
    m_copyKey->setObjectName(QStringLiteral("copyApiKeyAction"));
    m_menu->addSeparator();
    m_pause = m_menu->addAction(QString(), this, [this] { m_bridge->setPaused(!m_bridge->isPaused()); });
    m_pause->setObjectName(QStringLiteral("pauseAction"));
    m_autostart = m_menu->addAction(tr("Start at &login"));
    m_autostart->setObjectName(QStringLiteral("autostartAction"));
    m_autostart->setCheckable(true);
    m_autostart->setChecked(Autostart::isEnabled());
    connect(m_autostart, &QAction::toggled, this, [this](bool on) {
        QString error;
        if (!Autostart::setEnabled(on, m_program, m_arguments, &error)) {
            const QSignalBlocker block(m_autostart);
            m_autostart->setChecked(Autostart::isEnabled());
            emit errorOccurred(error);
        }
    });
    m_menu->addSeparator();
    m_quit = m_menu->addAction(tr("&Quit"), this, &TrayIcon::quitRequested);
    m_quit->setObjectName(QStringLiteral("quitAction"));
    // Before the menu opens: the autostart entry may have been removed by hand meanwhile.
    connect(m_menu, &QMenu::aboutToShow, this, [this] {
        const QSignalBlocker block(m_autostart);
        m_autostart->setChecked(Autostart::isEnabled());
    });
    m_tray->setContextMenu(m_menu);

    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
            emit openRequested();
    });

    connect(bridge, &ServiceBridge::limitsChanged, this, &TrayIcon::updateHealth);
    connect(bridge, &ServiceBridge::configChanged, this, &TrayIcon::updateHealth);
    connect(bridge, &ServiceBridge::pausedChanged, this, &TrayIcon::updateHealth);
    connect(bridge, &ServiceBridge::chainExhausted, this, &TrayIcon::onChainExhausted);
    connect(bridge, &ServiceBridge::chainRecovered, this, &TrayIcon::onChainRecovered);
    m_todayTimer.setSingleShot(true);
    m_todayTimer.setInterval(kTodayRefreshDelayMs);
    connect(&m_todayTimer, &QTimer::timeout, this, &TrayIcon::refreshToday);
    connect(bridge, &ServiceBridge::requestFinished, this, [this] {
        if (!m_todayTimer.isActive())
            m_todayTimer.start();
    });
    updateHealth();
    refreshToday();
}

TrayIcon::~TrayIcon()
{
    delete m_menu;
}

bool TrayIcon::show()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return false;
    m_tray->show();
    return true;
}

void TrayIcon::setAutostartCommand(const QString &program, const QStringList &arguments)
{
    m_program = program;
    m_arguments = arguments;
}

QString TrayIcon::toolTip() const
{
    QStringList lines;
    lines << tr("429chain — %1").arg(m_health.summary());
    if (m_requestsToday >= 0) {
        const QLocale locale;
        lines << tr("Today: %1 requests, %2 tokens")
                     .arg(locale.toString(m_requestsToday), locale.toString(m_tokensToday));
    } else if (!m_bridge->hasStats()) {
        lines << tr("Today: no request log, no totals");
    }
    lines << m_bridge->baseUrl();
    return lines.join(QLatin1Char('\n'));
}

void TrayIcon::updateHealth()
{
    m_health = Health::compute(*m_bridge->config(), m_bridge->limits(), m_bridge->isPaused(),
                               QDateTime::currentMSecsSinceEpoch());
    m_tray->setIcon(Health::icon(m_health.level));
    m_pause->setText(m_bridge->isPaused() ? tr("&Resume proxy") : tr("&Pause proxy"));
    m_copyKey->setEnabled(!m_bridge->config()->settings.apiKeys.isEmpty());
    updateToolTip();
}

void TrayIcon::updateToolTip()
{
    m_tray->setToolTip(toolTip());
}

void TrayIcon::refreshToday()
{
    struct Today
    {
        qint64 requests = 0;
        qint64 tokens = 0;
    };
    m_bridge->queryStats<Today>(
        [](StatsSource &stats) {
            const StatsSummary summary = stats.summary();
            return Today{summary.requestsToday, summary.tokensToday};
        },
        this,
        [this](Today today) {
            m_requestsToday = today.requests;
            m_tokensToday = today.tokens;
            updateToolTip();
        });
}

void TrayIcon::notify(const QString &key, const QString &title, const QString &message, bool warning)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const auto last = m_lastNotifiedMs.constFind(key);
    if (last != m_lastNotifiedMs.cend() && now - *last < m_notifyIntervalMs)
        return;
    m_lastNotifiedMs.insert(key, now);
    if (m_tray->isVisible() && QSystemTrayIcon::supportsMessages())
        m_tray->showMessage(title, message, warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information,
                            10000);
    emit notified(title, message);
}

void TrayIcon::onChainExhausted(const QString &chain, qint64 retryAfterSeconds)
{
    QString message = tr("No provider of chain \"%1\" has quota left; requests to it fail.").arg(chain);
    if (retryAfterSeconds > 0) {
        const QDateTime at = QDateTime::currentDateTime().addSecs(retryAfterSeconds);
        message +=
            QLatin1Char(' ') +
            tr("The first entry frees up at %1.").arg(QLocale().toString(at.time(), QLocale::ShortFormat));
    }
    const QString key = QStringLiteral("dry:") + chain;
    const qint64 before = m_lastNotifiedMs.value(key, -1);
    notify(key, tr("Chain \"%1\" ran dry").arg(chain), message, true);
    if (m_lastNotifiedMs.value(key, -1) != before)
        m_notifiedDry.insert(chain, true);
}

void TrayIcon::onChainRecovered(const QString &chain)
{
    if (!m_notifiedDry.take(chain))
        return; // its running dry was not announced (rate limit): neither is the recovery
    notify(QStringLiteral("recovered:") + chain, tr("Chain \"%1\" is serving again").arg(chain),
           tr("Requests to \"%1\" are answered again.").arg(chain), false);
}
