#include "slidingcounter.h"

SlidingCounter::SlidingCounter(qint64 spanMs, int slices)
    : m_spanMs(spanMs), m_sliceMs(qMax<qint64>(1, spanMs / qMax(1, slices))), m_slices(qMax(1, slices) + 1)
{
}

void SlidingCounter::advance(qint64 nowMs)
{
    const qint64 now = sliceOf(nowMs);
    if (now <= m_head)
        return;
    const qint64 size = m_slices.size();
    if (m_head < 0 || now - m_head >= size) {
        clear();
        m_head = now;
        return;
    }
    // Each slot that the window moves over holds a slice that has just left it (or nothing).
    for (qint64 i = m_head + 1; i <= now; ++i) {
        Slice &slot = m_slices[i % size];
        if (slot.index >= 0 && slot.index <= i - size) {
            m_requests -= slot.requests;
            m_tokens -= slot.tokens;
            slot = Slice();
        }
    }
    m_head = now;
}

void SlidingCounter::add(qint64 nowMs, qint64 requests, qint64 tokens)
{
    advance(nowMs);
    const qint64 index = sliceOf(nowMs);
    if (index < m_head - m_slices.size() + 1)
        return; // older than the window (the clock went backwards)
    Slice &slot = m_slices[index % m_slices.size()];
    if (slot.index != index) {
        m_requests -= slot.requests;
        m_tokens -= slot.tokens;
        slot = Slice{index, 0, 0};
    }
    slot.requests += requests;
    slot.tokens += tokens;
    m_requests += requests;
    m_tokens += tokens;
}

void SlidingCounter::adjustTokens(qint64 atMs, qint64 delta)
{
    const qint64 index = sliceOf(atMs);
    Slice &slot = m_slices[index % m_slices.size()];
    if (slot.index != index)
        return;
    const qint64 applied = qMax(delta, -slot.tokens);
    slot.tokens += applied;
    m_tokens += applied;
}

qint64 SlidingCounter::sumAt(qint64 nowMs, bool tokens) const
{
    if (sliceOf(nowMs) <= m_head)
        return tokens ? m_tokens : m_requests;
    const qint64 now = sliceOf(nowMs);
    const qint64 oldest = now - m_slices.size() + 1;
    qint64 sum = 0;
    for (const Slice &slot : m_slices) {
        if (slot.index >= oldest && slot.index <= now)
            sum += tokens ? slot.tokens : slot.requests;
    }
    return sum;
}

qint64 SlidingCounter::freesAtMs(bool tokens, qint64 keep, qint64 nowMs) const
{
    qint64 left = sumAt(nowMs, tokens);
    if (left <= keep)
        return nowMs;
    const qint64 size = m_slices.size();
    const qint64 now = qMax(sliceOf(nowMs), m_head);
    // Oldest first: slice i leaves the window when slice i + size begins.
    for (qint64 i = qMax<qint64>(0, now - size + 1); i <= now; ++i) {
        const Slice &slot = m_slices[i % size];
        if (slot.index != i)
            continue;
        left -= tokens ? slot.tokens : slot.requests;
        if (left <= keep)
            return qMax(nowMs, (i + size) * m_sliceMs);
    }
    return (now + size) * m_sliceMs;
}

void SlidingCounter::clear()
{
    for (Slice &slot : m_slices)
        slot = Slice();
    m_requests = 0;
    m_tokens = 0;
}

QJsonArray SlidingCounter::save() const
{
    QJsonArray rows;
    for (const Slice &slot : m_slices) {
        if (slot.index >= 0 && (slot.requests != 0 || slot.tokens != 0))
            rows.append(QJsonArray{slot.index, slot.requests, slot.tokens});
    }
    return rows;
}

void SlidingCounter::restore(const QJsonArray &slices, qint64 nowMs)
{
    clear();
    m_head = -1;
    advance(nowMs);
    const qint64 oldest = m_head - m_slices.size() + 1;
    for (const QJsonValue &value : slices) {
        const QJsonArray row = value.toArray();
        if (row.size() != 3 || !row.at(0).isDouble() || !row.at(1).isDouble() || !row.at(2).isDouble())
            continue;
        const qint64 index = qint64(row.at(0).toDouble());
        const qint64 requests = qint64(row.at(1).toDouble());
        const qint64 tokens = qint64(row.at(2).toDouble());
        if (index < oldest || index > m_head || requests < 0 || tokens < 0)
            continue;
        Slice &slot = m_slices[index % m_slices.size()];
        m_requests += requests - (slot.index == index ? slot.requests : 0);
        m_tokens += tokens - (slot.index == index ? slot.tokens : 0);
        slot = Slice{index, requests, tokens};
    }
}

void UsageHistory::advance(qint64 nowMs)
{
    minute.advance(nowMs);
    hour.advance(nowMs);
    day.advance(nowMs);
}

void UsageHistory::add(qint64 nowMs, qint64 requests, qint64 tokens)
{
    minute.add(nowMs, requests, tokens);
    hour.add(nowMs, requests, tokens);
    day.add(nowMs, requests, tokens);
}

void UsageHistory::adjustTokens(qint64 atMs, qint64 delta)
{
    minute.adjustTokens(atMs, delta);
    hour.adjustTokens(atMs, delta);
    day.adjustTokens(atMs, delta);
}

SlidingCounter &UsageHistory::forSpan(qint64 spanMs)
{
    return spanMs <= minute.spanMs() ? minute : spanMs <= hour.spanMs() ? hour : day;
}

const SlidingCounter &UsageHistory::forSpan(qint64 spanMs) const
{
    return spanMs <= minute.spanMs() ? minute : spanMs <= hour.spanMs() ? hour : day;
}
