#pragma once

#include "clock.h"

#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QString>

// The bounded, in-memory list of things a user should notice: an entry went into cooldown (and until when),
// came back, a chain ran dry, the config was reloaded, rejected or changed. ProxyService owns one and feeds
// it; the tray, the GUI's log page and GET /v1/events read it (recent()) and follow it (eventAdded). Oldest
// events drop off once the capacity is reached. recent() may be called from any thread; append() belongs to
// the owner's thread. Messages never contain keys.
class EventLog : public QObject
{
    Q_OBJECT

public:
    struct Event
    {
        qint64 id = 0;     // 1, 2, 3, … in order of append; never reused
        qint64 timeMs = 0; // when it was appended (ms since the epoch, from the injected clock)
        // "cooldown", "recovered" (a provider/model pair, or a chain when only `chain` is set),
        // "chain_exhausted", "config_reloaded", "config_rejected", "config_changed"
        QString kind;
        QString level; // "info", "warn" or "error"
        QString message;
        QString provider; // set when the event is about a provider (and model)
        QString model;
        QString chain; // set when the event is about a chain
        qint64 untilMs =
            0; // cooldown: when it ends; chain_exhausted: when the first entry frees up (0: never)
    };

    static constexpr int kDefaultCapacity = 500;

    explicit EventLog(const Clock &clock, int capacity = kDefaultCapacity, QObject *parent = nullptr);

    // Stamps the event with the next id and the current time, keeps it, emits eventAdded and returns it.
    Event append(Event event);
    Event append(const QString &kind, const QString &level, const QString &message);

    // The newest `limit` events with an id above `afterId`, oldest first. A follower passes the last id it
    // saw.
    QList<Event> recent(qint64 afterId = 0, int limit = 100) const;
    qint64 lastId() const;
    int capacity() const { return m_capacity; }

signals:
    void eventAdded(const EventLog::Event &event);

private:
    const Clock &m_clock;
    const int m_capacity;
    mutable QMutex m_mutex;
    QList<Event> m_events; // oldest first
    qint64 m_lastId = 0;
};

Q_DECLARE_METATYPE(EventLog::Event)
