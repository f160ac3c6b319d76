#pragma once

#include <QByteArray>

#include <functional>
#include <optional>

class QObject;

// Where replicas on one database keep their config (the YAML text, `${VAR}` references kept), so an edit on
// one replica applies on all: implemented by chain_storage over PostgreSQL (RequestStore, table chain_config,
// a NOTIFY per change); a SQLite store is not shared. Used by ConfigSharing and by --import-config /
// --export-config.
class SharedConfigStore
{
public:
    virtual ~SharedConfigStore() = default;

    virtual bool isShared() const = 0;
    // The stored config; nullopt when none is stored yet (or the database cannot be read). Blocks: at start
    // and in the command-line tools only.
    virtual std::optional<QByteArray> loadSharedConfig() = 0;
    // Stores `yaml` unless a config is stored already (the first replica seeds it). Blocks.
    virtual bool seedSharedConfig(const QByteArray &yaml) = 0;
    // Replaces the stored config and tells the other replicas. Never blocks: written by the store's thread
    // (the newest of several quick saves; kept while the database is away, written when it is back).
    virtual void saveSharedConfig(const QByteArray &yaml) = 0;
    // What another replica saved, delivered on `context`'s thread; a null context stops delivery.
    virtual void setSharedConfigReceiver(QObject *context,
                                         std::function<void(const QByteArray &)> receiver) = 0;
};
