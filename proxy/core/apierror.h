#pragma once

#include <QString>

// An error a client gets, in no protocol's shape: an HTTP status, what kind of error it is, a
// machine-readable code and a message for people. The client protocol adapters at the edge serialize it
// (OpenAI: {"error":{"message","type","param","code"}}; Anthropic: {"type":"error","error":{"type",
// "message"}}), so every error a client of ours sees is one of these in its own protocol's shape.
struct ApiError
{
    enum class Kind {
        InvalidRequest, // the request is wrong (400, 405, 411, …)
        Authentication, // no key or a wrong key (401)
        Permission,     // a key that may not do this, a host or origin not allowed (403)
        NotFound,       // no such route, chain or model (404)
        TooLarge,       // a body or header block over the limits (413, 431)
        RateLimit,      // every entry is out of quota for now (429)
        Timeout,        // a request that did not arrive in time (408), a stream that went idle
        Overloaded,     // the proxy cannot take it now: paused, queue full, shutting down (503)
        Server,         // everything else (500, 502)
    };

    int status = 500;
    QString message;
    Kind kind = Kind::Server;
    QString code;  // empty → null
    QString param; // empty → null
    qint64 retryAfterSeconds = -1;

    static ApiError make(int status, Kind kind, const QString &code, const QString &message);
    static ApiError invalidRequest(const QString &message, const QString &param = {},
                                   const QString &code = QStringLiteral("invalid_request"));
    static ApiError unauthorized(const QString &message);
    static ApiError notFound(const QString &message);
};
