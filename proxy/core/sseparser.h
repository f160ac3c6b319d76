#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// One item of an upstream Server-Sent-Events stream: a dispatched event or a comment line. Produced by
// SseParser, re-framed by serialize() when the proxy forwards a stream to its client.
struct SseEvent
{
    enum class Kind { Data, Comment };

    Kind kind = Kind::Data;
    QByteArray event;   // value of the last `event:` line, empty if none
    QByteArray data;    // data lines joined with '\n', without a trailing newline
    QByteArray id;      // value of the last `id:` line of this event, empty if none (not carried over)
    QByteArray comment; // Kind::Comment: text after ':' with one leading space removed

    // data == "[DONE]" (surrounding whitespace tolerated): the OpenAI end-of-stream marker.
    bool isDone() const;
    // LF-framed SSE: a comment as ": text\n\n"; an event as optional "event: x\n", optional "id: x\n", one
    // "data: line\n" per data line, then "\n". Line breaks inside values never break the framing.
    QByteArray serialize() const;

    friend bool operator==(const SseEvent &a, const SseEvent &b)
    {
        return a.kind == b.kind && a.event == b.event && a.data == b.data && a.id == b.id &&
               a.comment == b.comment;
    }
    friend bool operator!=(const SseEvent &a, const SseEvent &b) { return !(a == b); }
};

// Incremental SSE parser (WHATWG rules) for upstream chat streams; used by the upstream client on every chunk
// it reads. Each feed scans only the new bytes; a line split across feeds is the only thing buffered. Memory
// is bounded by maxEventBytes: a longer line or event marks the stream broken and drops the buffers.
class SseParser
{
public:
    explicit SseParser(qsizetype maxEventBytes = 8 * 1024 * 1024);

    // Feeds raw bytes; appends every completed event/comment to `out`, in stream order.
    void feed(QByteArrayView bytes, QList<SseEvent> &out);
    // An event or line exceeded maxEventBytes: the stream is broken; further input is ignored until reset().
    bool overflowed() const { return m_overflowed; }
    // Buffered bytes did not complete an event: the stream is truncated if the connection ends now.
    bool hasPartialData() const;
    // Back to a fresh stream (BOM check, no overflow, nothing buffered).
    void reset();

private:
    void feedBody(QByteArrayView bytes, QList<SseEvent> &out);
    void processLine(QByteArrayView line, QList<SseEvent> &out);
    void dispatch(QList<SseEvent> &out);
    void clearPendingEvent();
    void setOverflowed();
    qsizetype pendingEventBytes() const { return m_data.size() + m_event.size() + m_id.size(); }

    qsizetype m_maxEventBytes;
    QByteArray m_line;  // the unterminated tail of the input
    QByteArray m_event; // pending event's fields
    QByteArray m_data;
    QByteArray m_id;
    QByteArray m_bomBytes; // first bytes of the stream while they could still be a UTF-8 BOM
    bool m_hasData = false;
    bool m_atStreamStart = true;
    bool m_skipLf = false; // the previous feed ended in CR: a leading LF belongs to that line end
    bool m_overflowed = false;
};
