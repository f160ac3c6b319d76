#include "mainwindow.h"

#include "health.h"
#include "pagelist.h"
#include "servicebridge.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QScreen>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolButton>

namespace {
const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kPageKey = QStringLiteral("mainWindow/page");
} // namespace

MainWindow::MainWindow(ServiceBridge *bridge, QWidget *parent) : QMainWindow(parent), m_bridge(bridge)
{
    setWindowTitle(tr("429chain"));
    setWindowIcon(Health::appIcon());
    setObjectName(QStringLiteral("mainWindow"));

    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    m_nav = new QListWidget(central);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setAccessibleName(tr("Pages"));
    m_nav->setFrameShape(QFrame::NoFrame);
    m_nav->setIconSize(QSize(20, 20));
    m_nav->setSpacing(2);
    m_nav->setUniformItemSizes(true);
    m_nav->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    m_nav->setStyleSheet(QStringLiteral("QListWidget#navigation { padding: 8px 4px; }"
                                        "QListWidget#navigation::item { padding: 6px 10px; }"));
    m_stack = new QStackedWidget(central);
    m_stack->setObjectName(QStringLiteral("pages"));

    const QList<PageEntry> pages = createPages(bridge, m_stack);
    int widest = 0;
    const QFontMetrics metrics(m_nav->font());
    for (int i = 0; i < pages.size(); ++i) {
        const PageEntry &entry = pages.at(i);
        auto *item = new QListWidgetItem(QIcon::fromTheme(entry.iconName), entry.title, m_nav);
        // Ctrl+1 ... by position: a keyboard path to every page.
        item->setToolTip(tr("%1 (Ctrl+%2)").arg(entry.title).arg(i + 1));
        m_stack->addWidget(entry.widget);
        widest = qMax(widest, metrics.horizontalAdvance(entry.title));
        if (i < 9) {
            auto *shortcut = new QAction(this);
            shortcut->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
            connect(shortcut, &QAction::triggered, this, [this, i] { showPage(i); });
            addAction(shortcut);
        }
    }
    m_nav->setFixedWidth(qMax(170, widest + 20 + 2 * 10 + 8 + 24));
    if (pages.isEmpty()) {
        auto *empty = new QLabel(tr("This build has no pages."), m_stack);
        empty->setAlignment(Qt::AlignCenter);
        m_stack->addWidget(empty);
    }
    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row < m_stack->count())
            m_stack->setCurrentIndex(row);
    });

    auto *line = new QFrame(central);
    line->setFrameShape(QFrame::VLine);
    line->setFrameShadow(QFrame::Sunken);
    layout->addWidget(m_nav);
    layout->addWidget(line);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);

    // Status bar: where clients connect (with a copy button) and the state in words.
    m_baseUrl = new QLabel(this);
    m_baseUrl->setObjectName(QStringLiteral("baseUrlLabel"));
    m_baseUrl->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_baseUrl->setAccessibleName(tr("Base URL"));
    auto *copy = new QToolButton(this);
    copy->setObjectName(QStringLiteral("copyBaseUrl"));
    copy->setText(tr("Copy"));
    copy->setToolTip(tr("Copy the base URL to the clipboard"));
    copy->setAccessibleName(tr("Copy base URL"));
    copy->setAutoRaise(true);
    connect(copy, &QToolButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_bridge->baseUrl()); });
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("stateLabel"));
    m_state->setAccessibleName(tr("Proxy state"));
    m_pause = new QToolButton(this);
    m_pause->setObjectName(QStringLiteral("pauseButton"));
    m_pause->setAutoRaise(true);
    connect(m_pause, &QToolButton::clicked, this, [this] { m_bridge->setPaused(!m_bridge->isPaused()); });
    statusBar()->addWidget(m_baseUrl);
    statusBar()->addWidget(copy);
    statusBar()->addPermanentWidget(m_state);
    statusBar()->addPermanentWidget(m_pause);

    auto *quit = new QAction(tr("&Quit 429chain"), this);
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &MainWindow::quitRequested);
    addAction(quit);
    auto *close = new QAction(tr("&Close window"), this);
    close->setShortcut(QKeySequence::Close);
    connect(close, &QAction::triggered, this, &QWidget::close);
    addAction(close);

    connect(bridge, &ServiceBridge::configChanged, this, &MainWindow::updateStatus);
    connect(bridge, &ServiceBridge::limitsChanged, this, &MainWindow::updateStatus);
    connect(bridge, &ServiceBridge::pausedChanged, this, &MainWindow::updateStatus);
    updateStatus();

    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) {
        const QSize available = screen() ? screen()->availableSize() : QSize(1280, 800);
        resize(QSize(1100, 720).boundedTo(available * 0.9));
    }
    const int page = settings.value(kPageKey, 0).toInt();
    showPage(page >= 0 && page < m_nav->count() ? page : 0);
}

MainWindow::~MainWindow() = default;

int MainWindow::pageCount() const
{
    return m_nav->count();
}

QWidget *MainWindow::page(int index) const
{
    return index >= 0 && index < m_nav->count() ? m_stack->widget(index) : nullptr;
}

int MainWindow::currentPage() const
{
    return m_nav->currentRow();
}

void MainWindow::showPage(int index)
{
    if (index >= 0 && index < m_nav->count())
        m_nav->setCurrentRow(index);
}

bool MainWindow::showPage(const QString &className)
{
    for (int i = 0; i < m_nav->count(); ++i) {
        if (QLatin1String(m_stack->widget(i)->metaObject()->className()) == className) {
            showPage(i);
            return true;
        }
    }
    return false;
}

void MainWindow::bringToFront()
{
    if (isMinimized())
        setWindowState((windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
    show();
    raise();
    activateWindow();
}

QString MainWindow::statusText() const
{
    return m_state->text();
}

void MainWindow::updateStatus()
{
    m_baseUrl->setText(tr("Base URL: %1").arg(m_bridge->baseUrl()));
    const Health health = Health::compute(*m_bridge->config(), m_bridge->limits(), m_bridge->isPaused(),
                                          QDateTime::currentMSecsSinceEpoch());
    const QString state = m_bridge->isPaused() ? tr("Paused") : tr("Running");
    m_state->setText(health.level == Health::Level::Paused ? health.summary()
                                                           : tr("%1 — %2").arg(state, health.summary()));
    m_pause->setText(m_bridge->isPaused() ? tr("Resume") : tr("Pause"));
    m_pause->setToolTip(m_bridge->isPaused() ? tr("Resume the proxy: serve chat requests again")
                                             : tr("Pause the proxy: refuse new chat requests with 503"));
    m_pause->setAccessibleName(m_bridge->isPaused() ? tr("Resume proxy") : tr("Pause proxy"));
}

void MainWindow::saveState()
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kPageKey, m_nav->currentRow());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveState();
    if (m_hideOnClose) {
        hide();
        event->ignore();
        return;
    }
    QMainWindow::closeEvent(event);
    emit quitRequested();
}
