#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

class QNetworkAccessManager;

// The QNetworkAccessManagers of one engine thread. Each manager opens at most six HTTP/1.1 connections per
// host, so concurrent streams to one provider would queue in waves behind one manager: the pool hands out the
// manager with a free slot for that host and creates another (up to a bound) when all are full.
class UpstreamPool : public QObject
{
    Q_OBJECT

public:
    explicit UpstreamPool(int initialManagers = 2, int maxManagers = 48, QObject *parent = nullptr);
    ~UpstreamPool() override;

    static constexpr int kConnectionsPerHost = 6;

    // A manager for one request to `hostKey` ("scheme://host:port"); release() it when the reply finishes.
    QNetworkAccessManager *acquire(const QString &hostKey);
    void release(QNetworkAccessManager *manager, const QString &hostKey);
    int managerCount() const { return m_managers.size(); }

private:
    QNetworkAccessManager *createManager();

    struct Slot
    {
        QNetworkAccessManager *manager;
        QHash<QString, int> active; // in-flight requests per host
    };
    QList<Slot> m_managers;
    int m_maxManagers;
};
