#pragma once

#include <QByteArray>
#include <QObject>

class ProxyService;
class SharedConfigStore;

// Keeps the config of replicas on one database the same: at start the stored config wins over the local file
// (the file seeds the database when none is stored yet); a change applied here (admin API, web UI, desktop
// app, a hand edit of the file) is saved to the store; one saved by another replica is written to the local
// file and applied through ProxyService::reloadFromDisk, the same validated path as a hand edit. The local
// file is this replica's copy of the shared config. The engine creates it when the store is shared and the
// config has a file; lives on the service's thread.
class ConfigSharing : public QObject
{
    Q_OBJECT

public:
    ConfigSharing(ProxyService &service, SharedConfigStore &store, QObject *parent = nullptr);
    ~ConfigSharing() override;

    // Seeds or loads the stored config (blocks on the database: call at start).
    void start();
    int applied() const { return m_applied; } // configs of other replicas applied, for tests

private:
    void onLocalChange();
    void apply(const QByteArray &yaml, const char *from);
    QByteArray readFile() const;

    ProxyService &m_service;
    SharedConfigStore &m_store;
    QByteArray m_last; // the config text this replica and the store agree on
    int m_applied = 0;
};
