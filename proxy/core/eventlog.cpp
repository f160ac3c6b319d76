#include "eventlog.h"

#include <QMutexLocker>

#include <algorithm>

EventLog::EventLog(const Clock &clock, int capacity, QObject *parent)
    : QObject(parent), m_clock(clock), m_capacity(std::max(1, capacity))
{
    qRegisterMetaType<EventLog::Event>();
}

EventLog::Event EventLog::append(Event event)
{
    {
        QMutexLocker lock(&m_mutex);
        event.id = ++m_lastId;
        event.timeMs = m_clock.nowMs();
        m_events.append(event);
        if (m_events.size() > m_capacity)
            m_events.remove(0, m_events.size() - m_capacity);
    }
    emit eventAdded(event);
    return event;
}

EventLog::Event EventLog::append(const QString &kind, const QString &level, const QString &message)
{
    Event event;
    event.kind = kind;
    event.level = level;
    event.message = message;
    return append(std::move(event));
}

QList<EventLog::Event> EventLog::recent(qint64 afterId, int limit) const
{
    QMutexLocker lock(&m_mutex);
    if (limit <= 0)
        return {};
    // Ids increase along the list: find the first one above afterId, then keep the newest `limit` of the
    // rest.
    const auto first = std::upper_bound(m_events.cbegin(), m_events.cend(), afterId,
                                        [](qint64 id, const Event &e) { return id < e.id; });
    const qsizetype available = m_events.cend() - first;
    const qsizetype skip = std::max<qsizetype>(0, available - limit);
    return QList<Event>(first + skip, m_events.cend());
}

qint64 EventLog::lastId() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastId;
}
