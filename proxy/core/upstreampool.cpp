#include "upstreampool.h"

#include <QNetworkAccessManager>

UpstreamPool::UpstreamPool(int initialManagers, int maxManagers, QObject *parent)
    : QObject(parent), m_maxManagers(qMax(1, maxManagers))
{
    for (int i = 0; i < qMax(1, initialManagers); ++i)
        createManager();
}

UpstreamPool::~UpstreamPool() = default;

QNetworkAccessManager *UpstreamPool::createManager()
{
    auto *manager = new QNetworkAccessManager(this);
    manager->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_managers.append(Slot{manager, {}});
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
    return best->manager;
}

void UpstreamPool::release(QNetworkAccessManager *manager, const QString &hostKey)
{
    for (auto &slot : m_managers) {
        if (slot.manager == manager) {
            auto it = slot.active.find(hostKey);
            if (it != slot.active.end() && --it.value() <= 0)
                slot.active.erase(it);
            return;
        }
    }
}
