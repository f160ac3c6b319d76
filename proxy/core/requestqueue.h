#pragma once

#include "apierror.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <deque>
#include <functional>

class Clock;

// Queue mode (reference `queueMode`): holds requests whose whole chain is unusable and re-runs them, one at a
// time per chain and first in first out, as soon as any entry of the chain may serve again. The router
// creates one beside the tracker; it enqueues a request when its waterfall found nothing usable, calls
// notifyAvailable() on every recovery it learns of (cooldown ended, window rolled, a success, a config
// change) and drainNext() when a retried request was answered. Unlike the reference it also wakes itself at
// the earliest known reset (retryAtHintMs), forgets a request whose client left (owner destroyed, or
// cancel()), and fails on shutdown with queue_shutdown. The queue never logs requests: the caller logs each
// request once, with its final outcome.
//
// Rules:
// - One retry in flight per chain: notifyAvailable() hands the head to its Retry callback (from the event
//   loop, never inside the caller's call) and marks it in flight; a notify that comes meanwhile is remembered
//   and replayed when the in-flight request comes back.
// - A retried request that finds the chain still exhausted calls enqueue() again with the same owner: it
//   keeps its ticket, its place at the front and its original deadline (already past → queue_timeout at
//   once).
// - A retried request that was answered (served, or failed with anything but exhaustion) calls
//   drainNext(chain): the queue forgets it and retries the next head. An in-flight request that is cancelled
//   or whose owner is destroyed also passes its turn on to the next head.
// - An in-flight request never times out (the waterfall owns it); re-queued, it waits out what is left of
//   its original deadline.
// - queue_timeout and queue_full carry retryAfterSeconds when the chain's next wake-up (a hint) is known.
// - Fail is called at most once per ticket and never after cancel(), drainNext() or the owner's destruction.
// - Settings apply to requests enqueued afterwards; a waiting request keeps the wait it was given.
class RequestQueue : public QObject
{
    Q_OBJECT

public:
    struct Settings
    {
        qint64 maxWaitMs = 300000; // per request, from its first enqueue
        int maxSize = 100;         // per chain, in-flight request included
    };
    struct QueueStats
    {
        QString chainName;
        int depth = 0;
        qint64 oldestItemAgeMs = 0;
    };
    using Retry = std::function<void()>;                // re-run the waterfall for this request
    using Fail = std::function<void(const ApiError &)>; // answer the client with this error

    static constexpr qint64 kMinWakeDelayMs = 200; // a hint already past still waits this long (no hot loop)

    explicit RequestQueue(const Clock &clock, QObject *parent = nullptr);

    void setSettings(const Settings &s) { m_settings = s; }
    Settings settings() const { return m_settings; }

    // Holds a request for `chain`. `owner` is the request object: destroyed → the ticket is dropped silently;
    // enqueued again (same chain) → the same ticket, see the rules above; without an owner a re-queue is a
    // new request. retryAtHintMs: clock time (epoch ms) at which some entry of the chain is known to free, 0
    // when unknown; the head is retried then even if nobody calls notifyAvailable(). Returns the ticket, or 0
    // when refused (queue full, deadline already past, or the request was in flight at rejectAll()): `fail`
    // has then been called before enqueue returns.
    quint64 enqueue(const QString &chain, QObject *owner, Retry retry, Fail fail, qint64 retryAtHintMs = 0);
    // The client left while waiting (or during its retry): drop the ticket without calling anything.
    void cancel(quint64 ticket);
    // Something in `chain` may serve again: retry the head (or remember it if the head is in flight).
    void notifyAvailable(const QString &chain);
    // The in-flight request of `chain` was answered: forget it and retry the next head (with nothing in
    // flight, the same as notifyAvailable()).
    void drainNext(const QString &chain);
    // Shutdown: every waiting request fails with queue_shutdown; in-flight ones are forgotten, and fail with
    // queue_shutdown if they come back with enqueue().
    void rejectAll();

    QList<QueueStats> stats() const; // non-empty chains, by name
    int depth(const QString &chain) const;

    // The errors the queue answers with (503, the reference's codes and messages).
    static ApiError timeoutError(const QString &chain, qint64 maxWaitMs);
    static ApiError fullError(const QString &chain, int maxSize);
    static ApiError shutdownError(const QString &chain);

signals:
    void depthChanged(const QString &chain, int depth);

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    struct Item
    {
        quint64 ticket = 0;
        QString chain;
        QPointer<QObject> owner;
        QObject *ownerKey = nullptr; // for m_byOwner, valid after owner is gone
        QMetaObject::Connection ownerGone;
        Retry retry;
        Fail fail;
        qint64 enqueuedAtMs = 0;
        qint64 deadlineMs = 0;
        qint64 maxWaitMs = 0;
        int timeoutTimerId = 0;
        bool inFlight = false;
        int attempt = 0; // tells a queued retry that is still current from a stale one
    };
    struct ChainQueue
    {
        std::deque<quint64> tickets; // FIFO; an in-flight request is always the front
        bool pendingNotify = false;  // a recovery came while the head was in flight
        int wakeTimerId = 0;
        qint64 wakeAtMs = 0;
    };

    quint64 requeue(quint64 ticket, Retry retry, Fail fail, qint64 retryAtHintMs);
    bool headInFlight(const ChainQueue &queue) const;
    void dispatchHead(const QString &chain);
    void startRetry(quint64 ticket, int attempt);
    Item takeItem(quint64 ticket); // unlinks it everywhere; the caller decides what to call
    void removeItem(quint64 ticket, bool passTurnOn);
    void startTimeout(Item &item, qint64 remainingMs);
    void applyHint(const QString &chain, qint64 retryAtHintMs);
    void expire(quint64 ticket);
    void wake(const QString &chain);
    ApiError withRetryAfter(ApiError error, const QString &chain) const;
    bool wasRejected(QObject *owner);

    const Clock &m_clock;
    Settings m_settings;
    quint64 m_nextTicket = 0;
    QHash<quint64, Item> m_items;
    QHash<QString, ChainQueue> m_chains;
    QHash<QObject *, quint64> m_byOwner;
    QHash<int, quint64> m_timeoutTimers; // timer id → ticket
    QHash<int, QString> m_wakeTimers;    // timer id → chain
    QList<QPointer<QObject>> m_rejectedInFlight;
};
