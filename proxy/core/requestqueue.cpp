#include "requestqueue.h"

#include "clock.h"

#include <QLoggingCategory>
#include <QMetaObject>
#include <QTimerEvent>

#include <algorithm>
#include <climits>
#include <utility>

Q_LOGGING_CATEGORY(lcQueue, "chain.router")

namespace {
int timerInterval(qint64 ms)
{
    return int(std::clamp<qint64>(ms, 0, INT_MAX));
}

ApiError queueError(const QString &code, const QString &message)
{
    return ApiError::make(503, ApiError::Kind::Overloaded, code, message);
}
} // namespace

RequestQueue::RequestQueue(const Clock &clock, QObject *parent) : QObject(parent), m_clock(clock) {}

ApiError RequestQueue::timeoutError(const QString &chain, qint64 maxWaitMs)
{
    return queueError(
        QStringLiteral("queue_timeout"),
        QStringLiteral("Queue timeout after %1ms for chain \"%2\"").arg(QString::number(maxWaitMs), chain));
}

ApiError RequestQueue::fullError(const QString &chain, int maxSize)
{
    return queueError(
        QStringLiteral("queue_full"),
        QStringLiteral("Queue full (%1 items) for chain \"%2\"").arg(QString::number(maxSize), chain));
}

ApiError RequestQueue::shutdownError(const QString &chain)
{
    return queueError(QStringLiteral("queue_shutdown"),
                      QStringLiteral("Queue shut down while waiting for chain \"%1\"").arg(chain));
}

quint64 RequestQueue::enqueue(const QString &chain, QObject *owner, Retry retry, Fail fail,
                              qint64 retryAtHintMs)
{
    if (wasRejected(owner)) {
        fail(shutdownError(chain));
        return 0;
    }

    if (const quint64 existing = owner ? m_byOwner.value(owner) : 0) {
        if (m_items.constFind(existing)->chain == chain)
            return requeue(existing, std::move(retry), std::move(fail), retryAtHintMs);
        removeItem(existing, true); // the request moved to another chain: its old place is given up
    }

    if (depth(chain) >= m_settings.maxSize) {
        qCDebug(lcQueue).noquote() << "queue full for chain" << chain;
        fail(withRetryAfter(fullError(chain, m_settings.maxSize), chain));
        return 0;
    }

    const qint64 now = m_clock.nowMs();
    Item item;
    item.ticket = ++m_nextTicket;
    item.chain = chain;
    item.retry = std::move(retry);
    item.fail = std::move(fail);
    item.enqueuedAtMs = now;
    item.maxWaitMs = std::max<qint64>(0, m_settings.maxWaitMs);
    item.deadlineMs = now + item.maxWaitMs;
    if (owner) {
        const quint64 ticket = item.ticket;
        item.owner = owner;
        item.ownerKey = owner;
        item.ownerGone =
            connect(owner, &QObject::destroyed, this, [this, ticket] { removeItem(ticket, true); });
        m_byOwner.insert(owner, ticket);
    }
    const quint64 ticket = item.ticket;
    Item &stored = m_items.insert(ticket, std::move(item)).value();
    startTimeout(stored, stored.maxWaitMs);
    ChainQueue &queue = m_chains[chain];
    queue.tickets.push_back(ticket);
    const int size = int(queue.tickets.size());
    applyHint(chain, retryAtHintMs);
    qCDebug(lcQueue).noquote() << "queued request" << ticket << "for chain" << chain << "depth" << size;
    emit depthChanged(chain, size);
    return ticket;
}

quint64 RequestQueue::requeue(quint64 ticket, Retry retry, Fail fail, qint64 retryAtHintMs)
{
    Item &item = m_items[ticket];
    const QString chain = item.chain;
    item.retry = std::move(retry);
    item.fail = std::move(fail);
    applyHint(chain, retryAtHintMs);
    if (!item.inFlight)
        return ticket; // enqueued twice while waiting: it keeps its place

    // Back from a retry that found the chain still exhausted: front place, original deadline.
    item.inFlight = false;
    const qint64 remaining = item.deadlineMs - m_clock.nowMs();
    if (remaining <= 0) {
        const ApiError error = withRetryAfter(timeoutError(chain, item.maxWaitMs), chain);
        const bool pending = m_chains.constFind(chain)->pendingNotify;
        const Item gone = takeItem(ticket);
        if (pending)
            dispatchHead(chain);
        gone.fail(error);
        return 0;
    }
    startTimeout(item, remaining);
    if (m_chains.constFind(chain)->pendingNotify)
        dispatchHead(chain);
    return ticket;
}

void RequestQueue::cancel(quint64 ticket)
{
    removeItem(ticket, true);
}

void RequestQueue::notifyAvailable(const QString &chain)
{
    const auto it = m_chains.find(chain);
    if (it == m_chains.end())
        return;
    if (headInFlight(*it))
        it->pendingNotify = true; // replayed when the in-flight request comes back
    else
        dispatchHead(chain);
}

void RequestQueue::drainNext(const QString &chain)
{
    const auto it = m_chains.constFind(chain);
    if (it == m_chains.constEnd())
        return;
    if (headInFlight(*it))
        removeItem(it->tickets.front(), false);
    dispatchHead(chain);
}

void RequestQueue::rejectAll()
{
    QStringList chains = m_chains.keys();
    std::sort(chains.begin(), chains.end());
    QList<std::pair<QString, Fail>> toFail;
    for (const QString &chain : std::as_const(chains)) {
        for (const quint64 ticket : m_chains.value(chain).tickets) {
            const Item &item = *m_items.constFind(ticket);
            if (item.ownerKey && !item.owner)
                continue; // its client is gone already
            if (!item.inFlight)
                toFail.append({chain, item.fail});
            else if (item.owner) // its waterfall answers it; should it come back, it gets queue_shutdown
                m_rejectedInFlight.append(item.owner);
        }
    }
    for (const Item &item : std::as_const(m_items)) {
        disconnect(item.ownerGone);
        if (item.timeoutTimerId)
            killTimer(item.timeoutTimerId);
    }
    for (const ChainQueue &queue : std::as_const(m_chains)) {
        if (queue.wakeTimerId)
            killTimer(queue.wakeTimerId);
    }
    m_items.clear();
    m_chains.clear();
    m_byOwner.clear();
    m_timeoutTimers.clear();
    m_wakeTimers.clear();

    if (!toFail.isEmpty())
        qCDebug(lcQueue) << "rejecting" << toFail.size() << "queued requests on shutdown";
    for (const QString &chain : std::as_const(chains))
        emit depthChanged(chain, 0);
    for (const auto &[chain, fail] : std::as_const(toFail))
        fail(shutdownError(chain));
}

QList<RequestQueue::QueueStats> RequestQueue::stats() const
{
    QStringList chains = m_chains.keys();
    std::sort(chains.begin(), chains.end());
    const qint64 now = m_clock.nowMs();
    QList<QueueStats> result;
    for (const QString &chain : std::as_const(chains)) {
        const ChainQueue &queue = *m_chains.constFind(chain);
        qint64 oldest = now;
        for (const quint64 ticket : queue.tickets)
            oldest = std::min(oldest, m_items.constFind(ticket)->enqueuedAtMs);
        result.append({chain, int(queue.tickets.size()), std::max<qint64>(0, now - oldest)});
    }
    return result;
}

int RequestQueue::depth(const QString &chain) const
{
    const auto it = m_chains.constFind(chain);
    return it == m_chains.constEnd() ? 0 : int(it->tickets.size());
}

void RequestQueue::timerEvent(QTimerEvent *event)
{
    const int id = event->timerId();
    if (const auto it = m_timeoutTimers.constFind(id); it != m_timeoutTimers.constEnd())
        expire(*it);
    else if (const auto wakeIt = m_wakeTimers.constFind(id); wakeIt != m_wakeTimers.constEnd())
        wake(*wakeIt);
    else
        QObject::timerEvent(event);
}

bool RequestQueue::headInFlight(const ChainQueue &queue) const
{
    return !queue.tickets.empty() && m_items.constFind(queue.tickets.front())->inFlight;
}

void RequestQueue::dispatchHead(const QString &chain)
{
    const auto it = m_chains.find(chain);
    if (it == m_chains.end())
        return;
    it->pendingNotify = false;
    if (it->tickets.empty())
        return;
    Item &item = m_items[it->tickets.front()];
    if (item.inFlight)
        return;
    item.inFlight = true;
    const int attempt = ++item.attempt;
    if (item.timeoutTimerId) {
        killTimer(item.timeoutTimerId);
        m_timeoutTimers.remove(item.timeoutTimerId);
        item.timeoutTimerId = 0;
    }
    const quint64 ticket = item.ticket;
    qCDebug(lcQueue).noquote() << "retrying queued request" << ticket << "for chain" << chain;
    // From the event loop: the caller (often the tracker, mid-update) never sees a waterfall run inside it.
    QMetaObject::invokeMethod(
        this, [this, ticket, attempt] { startRetry(ticket, attempt); }, Qt::QueuedConnection);
}

void RequestQueue::startRetry(quint64 ticket, int attempt)
{
    const auto it = m_items.constFind(ticket);
    if (it == m_items.constEnd() || !it->inFlight || it->attempt != attempt)
        return;
    const Retry retry = it->retry; // a copy: the retry may re-queue, cancel or finish this very ticket
    retry();
}

RequestQueue::Item RequestQueue::takeItem(quint64 ticket)
{
    const auto it = m_items.find(ticket);
    if (it == m_items.end())
        return {};
    Item item = std::move(*it);
    m_items.erase(it);
    disconnect(item.ownerGone);
    if (item.timeoutTimerId) {
        killTimer(item.timeoutTimerId);
        m_timeoutTimers.remove(item.timeoutTimerId);
        item.timeoutTimerId = 0;
    }
    if (item.ownerKey && m_byOwner.value(item.ownerKey) == ticket)
        m_byOwner.remove(item.ownerKey);

    int size = 0;
    const auto chainIt = m_chains.find(item.chain);
    if (chainIt != m_chains.end()) {
        std::deque<quint64> &tickets = chainIt->tickets;
        tickets.erase(std::remove(tickets.begin(), tickets.end(), ticket), tickets.end());
        size = int(tickets.size());
        if (tickets.empty()) {
            if (chainIt->wakeTimerId) {
                killTimer(chainIt->wakeTimerId);
                m_wakeTimers.remove(chainIt->wakeTimerId);
            }
            m_chains.erase(chainIt);
        }
    }
    emit depthChanged(item.chain, size);
    return item;
}

void RequestQueue::removeItem(quint64 ticket, bool passTurnOn)
{
    const Item item = takeItem(ticket);
    if (item.ticket == 0)
        return;
    qCDebug(lcQueue).noquote() << "dropped request" << ticket << "from chain" << item.chain;
    if (item.inFlight && passTurnOn)
        dispatchHead(item.chain); // the chance it was given goes to the next request
}

void RequestQueue::startTimeout(Item &item, qint64 remainingMs)
{
    if (item.timeoutTimerId) {
        killTimer(item.timeoutTimerId);
        m_timeoutTimers.remove(item.timeoutTimerId);
    }
    item.timeoutTimerId = startTimer(timerInterval(remainingMs));
    if (item.timeoutTimerId)
        m_timeoutTimers.insert(item.timeoutTimerId, item.ticket);
}

void RequestQueue::applyHint(const QString &chain, qint64 retryAtHintMs)
{
    const auto it = m_chains.find(chain);
    if (retryAtHintMs <= 0 || it == m_chains.end())
        return;
    if (it->wakeTimerId && it->wakeAtMs <= retryAtHintMs)
        return; // an earlier wake-up is already set
    if (it->wakeTimerId) {
        killTimer(it->wakeTimerId);
        m_wakeTimers.remove(it->wakeTimerId);
    }
    const qint64 delay = std::max(kMinWakeDelayMs, retryAtHintMs - m_clock.nowMs());
    it->wakeTimerId = startTimer(timerInterval(delay));
    it->wakeAtMs = it->wakeTimerId ? retryAtHintMs : 0;
    if (it->wakeTimerId)
        m_wakeTimers.insert(it->wakeTimerId, chain);
}

void RequestQueue::expire(quint64 ticket)
{
    const auto it = m_items.constFind(ticket);
    if (it == m_items.constEnd())
        return;
    const ApiError error = withRetryAfter(timeoutError(it->chain, it->maxWaitMs), it->chain);
    const Item item = takeItem(ticket);
    if (item.ownerKey && !item.owner)
        return; // the client is gone; nobody to answer
    qCDebug(lcQueue).noquote() << "queued request" << ticket << "timed out for chain" << item.chain;
    item.fail(error);
}

void RequestQueue::wake(const QString &chain)
{
    const auto it = m_chains.find(chain);
    if (it == m_chains.end())
        return;
    killTimer(it->wakeTimerId);
    m_wakeTimers.remove(it->wakeTimerId);
    it->wakeTimerId = 0;
    it->wakeAtMs = 0;
    notifyAvailable(chain);
}

ApiError RequestQueue::withRetryAfter(ApiError error, const QString &chain) const
{
    const auto it = m_chains.constFind(chain);
    const qint64 wakeAt = it == m_chains.constEnd() ? 0 : it->wakeAtMs;
    const qint64 now = m_clock.nowMs();
    if (wakeAt > now)
        error.retryAfterSeconds = (wakeAt - now + 999) / 1000;
    return error;
}

bool RequestQueue::wasRejected(QObject *owner)
{
    m_rejectedInFlight.removeIf([](const QPointer<QObject> &p) { return p.isNull(); });
    if (!owner)
        return false;
    return m_rejectedInFlight.removeOne(owner);
}
