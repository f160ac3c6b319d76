#pragma once

#include <QObject>
#include <QPointer>
#include <QStringList>

#include <memory>

class MainWindow;
class ProxyService;
class ServiceBridge;
class StatsSource;
class TrayIcon;

// The desktop face of a running engine: the bridge, the tray icon and the main window (made when first
// shown). Without a system tray the window opens at once and closing it quits.
class DesktopApp : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        quint16 port = 0;               // where the server listens
        QStringList autostartArguments; // the Exec line's arguments for "start at login"
        QString firstPage;              // a page to open at start ("ProvidersPage"); empty: none
        bool demo = false;              // demo providers (shown in the window title)
    };

    DesktopApp(ProxyService *service, StatsSource *stats, const Options &options, QObject *parent = nullptr);
    ~DesktopApp() override;

    // Shows the tray icon (or, without a tray, the window). `openWindow`: show the window too.
    void start(bool openWindow);
    ServiceBridge *bridge() const { return m_bridge.get(); }
    TrayIcon *tray() const { return m_tray; }
    MainWindow *window(); // made on first use
    bool hasTray() const { return m_hasTray; }

public slots:
    // Shows and raises the window (tray "Open", a second launch).
    void activate();

signals:
    void quitRequested();

private:
    Options m_options;
    std::unique_ptr<ServiceBridge> m_bridge;
    TrayIcon *m_tray = nullptr;
    QPointer<MainWindow> m_window;
    bool m_hasTray = false;
};
