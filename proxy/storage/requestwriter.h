#pragma once

#include "clock.h"
#include "requestrecord.h"

#include <QList>
#include <QMutex>
#include <QObject>
#include <QString>

#include <memory>

class QTimer;

// The request log's writer. Lives on RequestStore's writer thread and owns that thread's connection: queued
// records are written in batches, one transaction each, with the daily rollups upserted in the same
// transaction (so the rollups always equal the sum of the rows written). It also runs retention and keeps the
// rate-limit tracker's saved state (limiter_state): a save waits in a one-slot mailbox, the newest replacing
// an older one, and is written with the next flush. enqueue() and setLimiterState() are the only members
// other threads may call; RequestStore calls the rest on the writer thread (blocking or queued invocations).
class RequestWriter : public QObject
{
    Q_OBJECT

public:
    struct Settings
    {
        QString path;
        QString connectionName;
        int retentionDays = 30;
        qint64 maxRequestRows = 1'000'000;
        int flushIntervalMs = 250;
        int maxBatch = 500;
        int maxPending = 100'000; // beyond this (a disk that stays locked) new records are dropped and logged
    };

    RequestWriter(const Settings &settings, const Clock &clock);
    ~RequestWriter() override;

    // Any thread: queues one record and wakes the writer when the queue starts or a batch is full.
    void enqueue(RequestRecord record, qint64 nowMs);
    // Any thread: replaces the state waiting to be written (only the newest is written) and wakes the writer.
    void setLimiterState(const QByteArray &state, qint64 nowMs);

    // Writer thread only.
    bool open(qint64 nowMs, QString *error); // connects, WAL, migrates, first retention, starts the timers
    void close();                            // writes what is queued, then closes the connection
    void writePending();                     // drains the queue, maxBatch records per transaction, and
                                             // writes the waiting limiter state
    QByteArray loadLimiterState();           // the waiting state if any, else the saved one; empty if none
    void runRetention(qint64 nowMs);
    int schemaVersion() const { return m_schemaVersion; }

private:
    void wake();
    bool writeBatch(const QList<RequestRecord> &batch);
    void writeLimiterState(const QByteArray &state, qint64 savedAtMs);
    void maybeRunRetention(qint64 nowMs);

    const Settings m_settings;
    const Clock &m_clock;
    QMutex m_mutex; // guards m_pending, m_latestQueuedMs, m_dropped and the limiter mailbox
    QList<RequestRecord> m_pending;
    qint64 m_latestQueuedMs = 0;
    qint64 m_dropped = 0;
    bool m_limiterPending = false;
    QByteArray m_limiterState;
    qint64 m_limiterSavedAtMs = 0;

    bool m_open = false;
    int m_schemaVersion = 0;
    qint64 m_lastRetentionMs = 0;
    struct Statements; // the batch's four statements, prepared on first use
    std::unique_ptr<Statements> m_statements;
    QTimer *m_flushTimer = nullptr;
    QTimer *m_retentionTimer = nullptr;
};
