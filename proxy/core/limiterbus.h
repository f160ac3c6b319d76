#pragma once

#include <QByteArray>

#include <functional>

class QObject;

// A channel between the replicas that share one database, for what their rate-limit trackers learn
// (LimiterSharing). Implemented by chain_storage over PostgreSQL's LISTEN/NOTIFY (RequestStore); a SQLite
// store has no other replica and is not shared. Messages are small opaque JSON, best effort: one published
// while the database is away is lost (the other replicas then learn it themselves, as without sharing).
class LimiterBus
{
public:
    virtual ~LimiterBus() = default;

    virtual bool isShared() const = 0;
    // Any thread, never blocks: handed to the store's thread, which sends it at once.
    virtual void publishLimiterMessage(const QByteArray &message) = 0;
    // What the replicas publish (this one's own too, possibly: a receiver tells them apart), delivered on
    // `context`'s thread. One receiver; a null context stops delivery.
    virtual void setLimiterReceiver(QObject *context, std::function<void(const QByteArray &)> receiver) = 0;
};
