#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

class QNetworkAccessManager;
class QNetworkReply;

// The QNetworkAccessManagers of one engine thread. Each manager opens at most six HTTP/1.1 connections per
// host, so concurrent streams to one provider would queue in waves behind one manager: the pool hands out the
// manager with a free slot for that host and creates another (up to a bound) when all are full (200 streams
// to one provider: 34 managers, each with its HTTP thread). Managers beyond the initial ones that stay unused
// for `idleTrimMs` are deleted with their threads and idle connections, and the freed heap goes back to the
// system, so a burst of streams does not keep its memory.
class UpstreamPool : public QObject
{
    Q_OBJECT

public:
    explicit UpstreamPool(int initialManagers = 2, int maxManagers = 48, int idleTrimMs = kIdleTrimMs,
                          QObject *parent = nullptr);
    ~UpstreamPool() override;

    static constexpr int kConnectionsPerHost = 6;
    static constexpr int kIdleTrimMs = 10000;

    // A manager for one request to `hostKey` ("scheme://host:port"); release() it when the reply finishes.
    QNetworkAccessManager *acquire(const QString &hostKey);
    void release(QNetworkAccessManager *manager, const QString &hostKey);
    // Ends a reply made on an acquired manager: no more signals to `owner`, aborted if still running, deleted
    // later; then the manager (if any) is released.
    void releaseReply(QNetworkReply *reply, const QObject *owner, QNetworkAccessManager *manager,
                      const QString &hostKey);
    int managerCount() const { return m_managers.size(); }
    int activeRequests() const; // acquired and not yet released, all managers

private:
    QNetworkAccessManager *createManager();
    void trim();

    struct Slot
    {
        QNetworkAccessManager *manager;
        QHash<QString, int> active; // in-flight requests per host
        int total = 0;              // in-flight requests, all hosts
        QElapsedTimer idle;         // since `total` last became 0
    };
    QList<Slot> m_managers;
    int m_initialManagers;
    int m_maxManagers;
    int m_idleTrimMs;
    QTimer m_trimTimer;
};
