#pragma once

#include "health.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>

class QAction;
class QMenu;
class QSystemTrayIcon;
class ServiceBridge;

// The tray icon: its picture and tooltip tell the proxy's health (in words too), its menu opens the window,
// copies the base URL or the API key, pauses the proxy, switches "start at login" and quits. It notifies when
// a chain runs dry and when it serves again, at most once per chain and kind every notifyIntervalMs.
class TrayIcon : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kDefaultNotifyIntervalMs = 10 * 60 * 1000;

    explicit TrayIcon(ServiceBridge *bridge, QObject *parent = nullptr);
    ~TrayIcon() override;

    // False when the desktop has no system tray: the caller opens the main window instead.
    bool show();
    QSystemTrayIcon *systemTrayIcon() const { return m_tray; }
    QMenu *menu() const { return m_menu; }
    // The command "start at login" writes into the autostart entry.
    void setAutostartCommand(const QString &program, const QStringList &arguments);
    Health health() const { return m_health; }
    QString toolTip() const;

signals:
    void openRequested();
    void quitRequested();
    // Every notification shown (also where the desktop cannot show it), for the log and tests.
    void notified(const QString &title, const QString &message);
    // An action failed (the autostart file could not be written): the caller shows it.
    void errorOccurred(const QString &message);

private:
    void updateHealth();
    void updateToolTip();
    void refreshToday();
    void notify(const QString &key, const QString &title, const QString &message, bool warning);
    void onChainExhausted(const QString &chain, qint64 retryAfterSeconds);
    void onChainRecovered(const QString &chain);

    ServiceBridge *m_bridge;
    QSystemTrayIcon *m_tray = nullptr;
    QMenu *m_menu = nullptr;
    QAction *m_open = nullptr;
    QAction *m_copyUrl = nullptr;
    QAction *m_copyKey = nullptr;
    QAction *m_pause = nullptr;
    QAction *m_autostart = nullptr;
    QAction *m_quit = nullptr;
    Health m_health;
    qint64 m_requestsToday = -1; // -1: not known yet
    qint64 m_tokensToday = 0;
    QTimer m_todayTimer; // coalesces refreshes after finished requests
    QString m_program;
    QStringList m_arguments;
    qint64 m_notifyIntervalMs = kDefaultNotifyIntervalMs;
    QHash<QString, qint64> m_lastNotifiedMs; // "dry:<chain>" / "recovered:<chain>" -> when
    QHash<QString, bool> m_notifiedDry;      // chains whose running dry was notified (recovery is news then)
};
