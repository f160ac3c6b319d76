#pragma once

#include <QMainWindow>

class QLabel;
class QListWidget;
class QStackedWidget;
class ServiceBridge;

// The main window: a navigation list on the left, the pages in a stack on the right, and a status bar with
// the base URL and the proxy's state (running / paused, health in words). Closing it hides it when the tray
// keeps the app running. Geometry and the last page are remembered (QSettings).
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(ServiceBridge *bridge, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Pages by object name of their widget ("DashboardPage", ...) or position.
    int pageCount() const;
    QWidget *page(int index) const;
    int currentPage() const;
    void showPage(int index);
    // Shows the page whose widget has class name `className` (e.g. "ProvidersPage"); false if there is none.
    bool showPage(const QString &className);
    // Shown, raised and focused, also from minimized (a second launch, the tray's "Open").
    void bringToFront();
    // Whether closing the window only hides it (the tray keeps the app alive).
    void setHideOnClose(bool hide) { m_hideOnClose = hide; }
    QString statusText() const; // the status bar's state text, for tests

signals:
    void quitRequested();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void updateStatus();
    void saveState();

    ServiceBridge *m_bridge;
    QListWidget *m_nav = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_baseUrl = nullptr;
    QLabel *m_state = nullptr;
    class QToolButton *m_pause = nullptr; // also here: without a tray the window is the only way to resume
    bool m_hideOnClose = false;
};
