#include "requestscanner.h"

namespace {
bool isTokenChar(char c)
{
    // RFC 9110 token characters: what a method or a header name may contain.
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}
} // namespace

QList<RequestScanner::Event> RequestScanner::feed(const char *data, qint64 size)
{
    QList<Event> events;
    qint64 pos = 0;
    while (pos < size && m_state != State::Rejected) {
        if (m_state == State::Body) {
            const qint64 take = qMin(m_bodyRemaining, size - pos);
            m_bodyRemaining -= take;
            pos += take;
            if (m_bodyRemaining == 0) {
                events.append(completed());
                m_state = State::Head;
            }
            continue;
        }
        // Head: take bytes up to the end of the header block, never more than the limit allows.
        const qint64 before = m_head.size();
        if (before == 0)
            m_path.clear(); // a new request: its path is not known until its request line is read
        const qint64 room = m_limits.maxHeaderBytes + 4 - before;
        m_head.append(data + pos, qMax<qint64>(0, qMin(size - pos, room)));
        // The head ends at the first empty line, whatever mix of CRLF and bare LF the client uses.
        qsizetype end = -1;
        qsizetype termLen = 0;
        for (const QByteArrayView terminator :
             {QByteArrayView("\r\n\r\n"), QByteArrayView("\n\n"), QByteArrayView("\n\r\n")}) {
            const qsizetype at = m_head.indexOf(terminator);
            if (at >= 0 && (end < 0 || at < end)) {
                end = at;
                termLen = terminator.size();
            }
        }
        if (end < 0) {
            if (m_head.size() > m_limits.maxHeaderBytes)
                reject(events, 431, "Request Header Fields Too Large",
                       "Request headers are larger than the limit.", "request_header_fields_too_large");
            return events; // wait for more
        }
        const qint64 headLen = end + termLen;
        pos += headLen - before;
        m_head.truncate(end);
        if (!headComplete(events))
            return events;
        m_head.clear();
    }
    return events;
}

bool RequestScanner::headComplete(QList<Event> &events)
{
    // Leading empty lines between requests are allowed by RFC 9112.
    while (m_head.startsWith("\r\n") || m_head.startsWith('\n'))
        m_head.remove(0, m_head.startsWith("\r\n") ? 2 : 1);
    if (m_head.isEmpty()) {
        // Only blank lines so far: keep waiting for a request line.
        return true;
    }
    if (m_head.size() > m_limits.maxHeaderBytes) {
        reject(events, 431, "Request Header Fields Too Large", "Request headers are larger than the limit.",
               "request_header_fields_too_large");
        return false;
    }
    const QList<QByteArray> lines = m_head.split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3 || !isToken(requestLine.at(0)) || requestLine.at(1).isEmpty() ||
        !requestLine.at(2).startsWith("HTTP/1.")) {
        reject(events, 400, "Bad Request", "Malformed HTTP request line.", "bad_request");
        return false;
    }
    m_path = requestLine.at(1);
    if (const qsizetype query = m_path.indexOf('?'); query >= 0)
        m_path.truncate(query);
    if (lines.size() - 1 > m_limits.maxHeaderFields) {
        reject(events, 431, "Request Header Fields Too Large", "Too many request header fields.",
               "request_header_fields_too_large");
        return false;
    }
    Event head;
    head.kind = Event::Kind::HeadComplete;
    head.keepAlive = requestLine.at(2) != "HTTP/1.0";
    bool sawLength = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        // No whitespace between a field name and its colon (RFC 9112 §5.1): that is how smuggling starts.
        if (colon <= 0 || !isToken(QByteArrayView(line).first(colon))) {
            reject(events, 400, "Bad Request", "Malformed HTTP header line.", "bad_request");
            return false;
        }
        const QByteArray name = line.left(colon).toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "content-length") {
            bool ok = false;
            const qint64 length = value.toLongLong(&ok);
            // Two different lengths make the body's end ambiguous (request smuggling): refuse.
            if (!ok || length < 0 || (sawLength && length != head.contentLength)) {
                reject(events, 400, "Bad Request", "Invalid Content-Length header.", "bad_request");
                return false;
            }
            head.contentLength = length;
            sawLength = true;
        } else if (name == "transfer-encoding") {
            reject(events, 411, "Length Required",
                   "Chunked request bodies are not accepted; send a Content-Length.", "length_required");
            return false;
        } else if (name == "expect") {
            head.expectContinue = value.toLower() == "100-continue";
        } else if (name == "connection") {
            const QByteArray v = value.toLower();
            if (v.contains("close"))
                head.keepAlive = false;
            else if (v.contains("keep-alive"))
                head.keepAlive = true;
        }
    }
    if (head.contentLength > m_limits.maxBodyBytes) {
        reject(events, 413, "Payload Too Large",
               "Request body of " + QByteArray::number(head.contentLength) +
                   " bytes is larger than the limit of " + QByteArray::number(m_limits.maxBodyBytes) +
                   " bytes (settings.maxRequestBytes).",
               "request_too_large");
        return false;
    }
    events.append(head);
    m_bodyRemaining = head.contentLength;
    if (head.contentLength == 0)
        events.append(completed());
    else
        m_state = State::Body;
    return true;
}

void RequestScanner::reject(QList<Event> &events, int status, const QByteArray &reason,
                            const QByteArray &message, const QByteArray &code)
{
    m_state = State::Rejected;
    m_head.clear();
    Event event;
    event.kind = Event::Kind::Rejected;
    event.status = status;
    event.reason = reason;
    event.message = message;
    event.code = code;
    event.path = m_path;
    events.append(event);
}
