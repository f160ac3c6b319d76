#pragma once

#include <QByteArray>
#include <QFileSystemWatcher>
#include <QObject>
#include <QString>
#include <QTimer>

class ProxyService;

// Live reload: watches the running config's file (and its directory, since editors and `mv` replace files by
// rename) and, once changes settle (~300 ms), asks the service to reload it. A good file is applied
// (config_reloaded event); a bad one keeps the running config (config_rejected event with the loader's
// messages, logged on chain.config). Content the service itself wrote or loaded, and a bad content already
// rejected once, are ignored (compared by hash), so admin writes never trigger a reload. The app creates one
// beside the service, on the service's thread; the file is the one config()->sourcePath named at
// construction.
class ConfigWatcher : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultDebounceMs = 300;

    explicit ConfigWatcher(ProxyService &service, QObject *parent = nullptr);

    QString path() const { return m_path; } // absolute; empty when the config has no file (nothing watched)

signals:
    // A changed file was handed to ProxyService::reloadFromDisk(); ok tells whether it was applied.
    void reloadAttempted(bool ok);

private:
    void schedule();
    void check();
    void watchPaths();

    ProxyService &m_service;
    QString m_path;
    QString m_dir;
    QFileSystemWatcher m_watcher;
    QTimer m_debounce;
    QByteArray m_rejectedHash;
};
