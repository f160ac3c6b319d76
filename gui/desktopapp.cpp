#include "desktopapp.h"

#include "mainwindow.h"
#include "servicebridge.h"
#include "trayicon.h"

#include <QApplication>
#include <QMessageBox>

DesktopApp::DesktopApp(ProxyService *service, StatsSource *stats, const Options &options, QObject *parent)
    : QObject(parent), m_options(options), m_bridge(std::make_unique<ServiceBridge>(service, stats))
{
    if (options.port)
        m_bridge->setListenPort(options.port);
    m_tray = new TrayIcon(m_bridge.get(), this);
    m_tray->setAutostartCommand(QCoreApplication::applicationFilePath(), options.autostartArguments);
    connect(m_tray, &TrayIcon::openRequested, this, &DesktopApp::activate);
    connect(m_tray, &TrayIcon::quitRequested, this, &DesktopApp::quitRequested);
    connect(m_tray, &TrayIcon::errorOccurred, this,
            [this](const QString &message) { QMessageBox::warning(m_window, tr("429chain"), message); });
}

DesktopApp::~DesktopApp()
{
    delete m_window; // before the bridge its pages use
    delete m_tray;
}

MainWindow *DesktopApp::window()
{
    if (!m_window) {
        m_window = new MainWindow(m_bridge.get());
        m_window->setAttribute(Qt::WA_DeleteOnClose, false);
        if (m_options.demo)
            m_window->setWindowTitle(tr("429chain (demo providers)"));
        m_window->setHideOnClose(m_hasTray);
        connect(m_window, &MainWindow::quitRequested, this, &DesktopApp::quitRequested);
    }
    return m_window;
}

void DesktopApp::start(bool openWindow)
{
    m_hasTray = m_tray->show();
    if (!m_hasTray || openWindow || !m_options.firstPage.isEmpty()) {
        MainWindow *w = window();
        w->setHideOnClose(m_hasTray);
        if (!m_options.firstPage.isEmpty())
            w->showPage(m_options.firstPage);
        w->bringToFront();
    }
}

void DesktopApp::activate()
{
    window()->bringToFront();
}
