#include "configwatcher.h"

#include "proxyservice.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcConfigOps)

ConfigWatcher::ConfigWatcher(ProxyService &service, QObject *parent)
    : QObject(parent), m_service(service), m_watcher(this), m_debounce(this)
{
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(kDefaultDebounceMs);
    connect(&m_debounce, &QTimer::timeout, this, &ConfigWatcher::check);
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, &ConfigWatcher::schedule);
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, &ConfigWatcher::schedule);

    const QString source = service.config()->sourcePath;
    if (source.isEmpty())
        return;
    const QFileInfo info(source);
    m_path = info.absoluteFilePath();
    m_dir = info.absolutePath();
    watchPaths();
    qCDebug(lcConfigOps).noquote() << "watching" << m_path << "for changes";
}

void ConfigWatcher::watchPaths()
{
    // A file replaced by rename is a new file: the old watch is gone, so add it again whenever it is missing.
    if (!m_watcher.directories().contains(m_dir) && QFileInfo::exists(m_dir))
        m_watcher.addPath(m_dir);
    if (!m_watcher.files().contains(m_path) && QFileInfo::exists(m_path))
        m_watcher.addPath(m_path);
}

void ConfigWatcher::schedule()
{
    m_debounce.start(); // restarts: a burst of events (write, rename, chmod) becomes one check
}

void ConfigWatcher::check()
{
    watchPaths();
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly))
        return; // gone for the moment (mid-replace or deleted): the directory watch reports its return
    const QByteArray hash = QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
    if (hash == m_service.configFileHash() || hash == m_rejectedHash)
        return;
    const AdminResult result = m_service.reloadFromDisk();
    m_rejectedHash = result.ok() ? QByteArray() : hash;
    emit reloadAttempted(result.ok());
}
