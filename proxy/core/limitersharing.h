#pragma once

#include "ratelimittracker.h"

#include <QHash>
#include <QObject>
#include <QPair>
#include <QString>
#include <QTimer>

class LimiterBus;

// Shares what this replica's rate-limit tracker learns with the other replicas on the same database, and
// applies what they learn: a cooldown (a 429 and its reset, a daily cap, a misconfigured key, 5xx
// escalation: the tracker's cooldownStarted, sent with its remaining duration so clocks need not agree), a
// reset by hand, and every admitted attempt, so manual windows and learned ceilings count the requests of all
// replicas. Admissions are summed per pair and sent every kUseIntervalMs (a busy replica sends 50 small
// messages a second, not one per request; two replicas can both admit the last request of a window within
// that time). What arrives is applied without being
// sent back. Each replica still decides from memory: nothing here waits for the database. The engine creates
// it when the store is shared (PostgreSQL); lives on the tracker's thread.
class LimiterSharing : public QObject
{
    Q_OBJECT

public:
    static constexpr int kUseIntervalMs = 20;

    LimiterSharing(RateLimitTracker &tracker, LimiterBus &bus, const QString &replica,
                   QObject *parent = nullptr);
    ~LimiterSharing() override;

    void setReplica(const QString &replica) { m_replica = replica; }
    int received() const { return m_received; } // messages applied, for tests

private:
    void onCooldownStarted(const QString &provider, const QString &model, qint64 untilMs,
                           const QString &reason);
    void onAdmitted(const QString &provider, const QString &model, qint64 tokens);
    void onReset(const QString &provider, const QString &model);
    void sendUse();
    void publish(QJsonObject message);
    void apply(const QByteArray &message);

    RateLimitTracker &m_tracker;
    LimiterBus &m_bus;
    QString m_replica;
    const QString m_sender;  // this process, to tell its own messages when they come back
    bool m_applying = false; // applying a message: what the tracker signals now is not ours to send
    QHash<QPair<QString, QString>, QPair<qint64, qint64>> m_pendingUse; // pair -> requests, tokens
    QTimer m_useTimer;
    int m_received = 0;
};
