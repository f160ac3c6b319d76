#include "sseparser.h"

#include <cstring>
#include <utility>

namespace {

constexpr char Bom[] = "\xEF\xBB\xBF";
constexpr qsizetype BomSize = 3;
// A line buffer that grew past this is released after use instead of kept for the next line.
constexpr qsizetype KeepLineCapacity = 64 * 1024;

QByteArrayView withoutOneLeadingSpace(QByteArrayView value)
{
    return value.startsWith(' ') ? value.sliced(1) : value;
}

qsizetype lineBreakAt(QByteArrayView text, qsizetype from)
{
    for (qsizetype i = from; i < text.size(); ++i) {
        if (text[i] == '\n' || text[i] == '\r')
            return i;
    }
    return -1;
}

// The part of a single-line value (event name, id) before any line break: it must not break the framing.
QByteArrayView firstLine(QByteArrayView value)
{
    const qsizetype br = lineBreakAt(value, 0);
    return br < 0 ? value : value.first(br);
}

// Appends `prefix + line + '\n'` for every line of `text`; CRLF, CR and LF all count as one line break.
void appendLines(QByteArray &out, QByteArrayView prefix, QByteArrayView text)
{
    qsizetype start = 0;
    for (;;) {
        const qsizetype br = lineBreakAt(text, start);
        out.append(prefix);
        out.append(text.sliced(start, (br < 0 ? text.size() : br) - start));
        out.append('\n');
        if (br < 0)
            return;
        start = br + 1;
        if (text[br] == '\r' && start < text.size() && text[start] == '\n')
            ++start;
    }
}

} // namespace

bool SseEvent::isDone() const
{
    return kind == Kind::Data && QByteArrayView(data).trimmed() == QByteArrayView("[DONE]");
}

QByteArray SseEvent::serialize() const
{
    QByteArray out;
    if (kind == Kind::Comment) {
        out.reserve(comment.size() + 4);
        appendLines(out, ": ", comment);
        out.append('\n');
        return out;
    }
    out.reserve(event.size() + id.size() + data.size() + 24);
    if (!event.isEmpty()) {
        out.append("event: ");
        out.append(firstLine(event));
        out.append('\n');
    }
    if (!id.isEmpty()) {
        out.append("id: ");
        out.append(firstLine(id));
        out.append('\n');
    }
    appendLines(out, "data: ", data);
    out.append('\n');
    return out;
}

SseParser::SseParser(qsizetype maxEventBytes) : m_maxEventBytes(maxEventBytes) {}

bool SseParser::hasPartialData() const
{
    return !m_line.isEmpty() || !m_bomBytes.isEmpty() || m_hasData || !m_event.isEmpty() || !m_id.isEmpty();
}

void SseParser::reset()
{
    m_line = QByteArray();
    m_bomBytes.clear();
    clearPendingEvent();
    m_atStreamStart = true;
    m_skipLf = false;
    m_overflowed = false;
}

void SseParser::feed(QByteArrayView bytes, QList<SseEvent> &out)
{
    if (m_overflowed)
        return;
    if (m_atStreamStart) {
        // Hold back the first bytes while they match a BOM prefix; the BOM may arrive split across feeds.
        while (!bytes.isEmpty() && m_bomBytes.size() < BomSize) {
            if (bytes.front() != Bom[m_bomBytes.size()]) {
                m_atStreamStart = false;
                const QByteArray held = std::exchange(m_bomBytes, QByteArray());
                feedBody(held, out);
                break;
            }
            m_bomBytes.append(bytes.front());
            bytes = bytes.sliced(1);
        }
        if (m_bomBytes.size() == BomSize) {
            m_atStreamStart = false;
            m_bomBytes.clear();
        }
        if (m_atStreamStart)
            return; // every byte so far may still be a BOM
    }
    feedBody(bytes, out);
}

void SseParser::feedBody(QByteArrayView bytes, QList<SseEvent> &out)
{
    const char *p = bytes.data();
    const char *const end = p + bytes.size();
    if (m_skipLf && p < end) {
        m_skipLf = false;
        if (*p == '\n')
            ++p;
    }
    // The next LF is remembered, so a stream of lone-CR lines does not rescan the rest of the chunk per line.
    const char *nextLf = nullptr;
    while (p < end && !m_overflowed) {
        if (nextLf == nullptr || nextLf < p) {
            nextLf = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (nextLf == nullptr)
                nextLf = end;
        }
        const char *cr = static_cast<const char *>(std::memchr(p, '\r', size_t(nextLf - p)));
        const char *lineEnd = cr ? cr : nextLf;
        const qsizetype segment = lineEnd - p;
        if (m_line.size() + segment > m_maxEventBytes) {
            setOverflowed();
            return;
        }
        if (lineEnd == end) { // unterminated tail: keep it for the next feed
            m_line.append(p, segment);
            return;
        }
        if (m_line.isEmpty()) {
            processLine(QByteArrayView(p, segment), out);
        } else {
            m_line.append(p, segment);
            processLine(m_line, out);
            if (m_line.capacity() > KeepLineCapacity)
                m_line = QByteArray();
            else
                m_line.resize(0);
        }
        p = lineEnd + 1;
        if (cr != nullptr) {
            if (p == end)
                m_skipLf = true;
            else if (*p == '\n')
                ++p;
        }
    }
}

void SseParser::processLine(QByteArrayView line, QList<SseEvent> &out)
{
    if (line.isEmpty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':') {
        SseEvent comment;
        comment.kind = SseEvent::Kind::Comment;
        comment.comment = withoutOneLeadingSpace(line.sliced(1)).toByteArray();
        out.append(std::move(comment));
        return;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    const QByteArrayView value =
        colon < 0 ? QByteArrayView() : withoutOneLeadingSpace(line.sliced(colon + 1));

    if (field == QByteArrayView("data")) {
        if (pendingEventBytes() + value.size() + 1 > m_maxEventBytes) {
            setOverflowed();
            return;
        }
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
    } else if (field == QByteArrayView("event")) {
        m_event = value.toByteArray();
    } else if (field == QByteArrayView("id")) {
        if (!value.contains('\0'))
            m_id = value.toByteArray();
    }
    // `retry:` and unknown fields are ignored: reconnection is the upstream client's business, not the
    // server's.
    if (pendingEventBytes() > m_maxEventBytes)
        setOverflowed();
}

void SseParser::dispatch(QList<SseEvent> &out)
{
    if (m_hasData) {
        SseEvent event;
        event.event = std::move(m_event);
        event.data = std::move(m_data);
        event.id = std::move(m_id);
        out.append(std::move(event));
    }
    clearPendingEvent();
}

void SseParser::clearPendingEvent()
{
    m_event.clear();
    m_data.clear();
    m_id.clear();
    m_hasData = false;
}

void SseParser::setOverflowed()
{
    m_overflowed = true;
    m_line = QByteArray();
    m_bomBytes = QByteArray();
    clearPendingEvent();
}
