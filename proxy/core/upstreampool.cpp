#include "upstreampool.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>

#ifdef __GLIBC__
#include <malloc.h>
#endif

UpstreamPool::UpstreamPool(int initialManagers, int maxManagers, int idleTrimMs, QObject *parent)
    : QObject(parent)
    , m_initialManagers(qMax(1, initialManagers))
    , m_maxManagers(qMax(m_initialManagers, maxManagers))
    , m_idleTrimMs(qMax(1, idleTrimMs))
{
    for (int i = 0; i < m_initialManagers; ++i)
        createManager();
    m_trimTimer.setSingleShot(true);
    connect(&m_trimTimer, &QTimer::timeout, this, &UpstreamPool::trim);
}

UpstreamPool::~UpstreamPool() = default;

QNetworkAccessManager *UpstreamPool::createManager()
{
    auto *manager = new QNetworkAccessManager(this);
    manager->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_managers.append(Slot{manager, {}, 0, {}});
    return manager;
}

QNetworkAccessManager *UpstreamPool::acquire(const QString &hostKey)
{
    Slot *best = nullptr;
    for (auto &slot : m_managers) {
        const int n = slot.active.value(hostKey);
        if (!best || n < best->active.value(hostKey))
            best = &slot;
        if (n == 0)
            break;
    }
    if (best->active.value(hostKey) >= kConnectionsPerHost && m_managers.size() < m_maxManagers) {
        createManager();
        best = &m_managers.last();
    }
    ++best->active[hostKey];
    ++best->total;
    return best->manager;
}

void UpstreamPool::release(QNetworkAccessManager *manager, const QString &hostKey)
{
    for (auto &slot : m_managers) {
        if (slot.manager == manager) {
            auto it = slot.active.find(hostKey);
            if (it == slot.active.end())
                return;
            if (--it.value() <= 0)
                slot.active.erase(it);
            if (--slot.total <= 0) {
                slot.total = 0;
                slot.idle.start();
                if (m_managers.size() > m_initialManagers && !m_trimTimer.isActive())
                    m_trimTimer.start(m_idleTrimMs);
            }
            return;
        }
    }
}

void UpstreamPool::releaseReply(QNetworkReply *reply, const QObject *owner, QNetworkAccessManager *manager,
                                const QString &hostKey)
{
    reply->disconnect(owner);
    if (reply->isRunning())
        reply->abort();
    reply->deleteLater();
    if (manager)
        release(manager, hostKey);
}

void UpstreamPool::trim()
{
    // Only while nothing is in flight: deleting a manager waits for its HTTP thread to end, and giving the
    // heap back walks every malloc arena under its lock; neither may delay a running stream.
    qint64 nextDueMs = -1;
    for (const Slot &slot : std::as_const(m_managers)) {
        if (slot.total > 0) {
            m_trimTimer.start(m_idleTrimMs);
            return;
        }
        const qint64 idleMs = slot.idle.isValid() ? slot.idle.elapsed() : m_idleTrimMs;
        if (idleMs < m_idleTrimMs)
            nextDueMs = qMax(nextDueMs, m_idleTrimMs - idleMs);
    }
    if (nextDueMs > 0) {
        m_trimTimer.start(int(nextDueMs)); // the pool has been idle for less than idleTrimMs
        return;
    }
    bool deleted = false;
    while (m_managers.size() > m_initialManagers) {
        // Nothing refers to an idle manager: every acquire() has been released. Its replies may still wait
        // for their deleteLater, so it goes the same way.
        m_managers.takeLast().manager->deleteLater();
        deleted = true;
    }
#ifdef __GLIBC__
    if (deleted) {
        // Once the managers and their threads are gone, give their freed heap back (glibc keeps it
        // otherwise).
        QTimer::singleShot(1000, this, [this] {
            if (activeRequests() == 0)
                malloc_trim(0);
        });
    }
#else
    Q_UNUSED(deleted);
#endif
}

int UpstreamPool::activeRequests() const
{
    int total = 0;
    for (const Slot &slot : m_managers)
        total += slot.total;
    return total;
}
