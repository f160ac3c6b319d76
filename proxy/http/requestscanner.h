#pragma once

#include <QByteArray>
#include <QList>

// Follows the raw bytes of one client connection and finds where each HTTP/1.x request begins and ends,
// without copying bodies: the pure half of ConnectionGuard, kept free of sockets so the fuzzer can drive it.
// It enforces the limits QHttpServer 6.4 lacks (header block size and field count, body size, no chunked
// uploads, a well-formed request line and header lines) and reads what the connection rules need
// (Expect: 100-continue, Connection, HTTP/1.0).
class RequestScanner
{
public:
    struct Limits
    {
        qint64 maxBodyBytes = 10 * 1024 * 1024;
        qint64 maxHeaderBytes = 64 * 1024;
        int maxHeaderFields = 100;
    };

    // What one feed found, in stream order.
    struct Event
    {
        enum class Kind {
            HeadComplete,    // a request head passed every check
            RequestComplete, // its body (possibly empty) has fully arrived
            Rejected         // the connection must be answered with `status` and closed
        };
        Kind kind = Kind::HeadComplete;
        // HeadComplete
        qint64 contentLength = 0;
        bool expectContinue = false;
        bool keepAlive = true;
        // Rejected
        int status = 0;
        QByteArray reason;  // "Request Header Fields Too Large"
        QByteArray message; // for the OpenAI-shaped error body
        QByteArray code;    // "request_header_fields_too_large"
        QByteArray path;    // the request's path (no query) when its request line was read, else empty
    };

    static Event completed()
    {
        Event event;
        event.kind = Event::Kind::RequestComplete;
        return event;
    }

    explicit RequestScanner(const Limits &limits) : m_limits(limits) {}

    // Scans `size` new bytes. After a Rejected event every further byte is ignored.
    QList<Event> feed(const char *data, qint64 size);
    bool rejected() const { return m_state == State::Rejected; }
    // The connection is being refused for a reason found outside the bytes (a timeout): ignore the rest.
    void abandon() { m_state = State::Rejected; }
    // Some bytes of a request have arrived but not all of it (head or body still incomplete).
    bool midRequest() const { return m_state == State::Body || !m_head.isEmpty(); }
    // The path of the request being read, once its request line was read (for the shape of an error).
    const QByteArray &path() const { return m_path; }

private:
    enum class State { Head, Body, Rejected };

    bool headComplete(QList<Event> &events);
    void reject(QList<Event> &events, int status, const QByteArray &reason, const QByteArray &message,
                const QByteArray &code);

    Limits m_limits;
    State m_state = State::Head;
    QByteArray m_head;
    QByteArray m_path;
    qint64 m_bodyRemaining = 0;
};
