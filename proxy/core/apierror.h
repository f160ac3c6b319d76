#pragma once

#include <QByteArray>
#include <QString>

// An error as the OpenAI API shapes it: {"error":{"message","type","param","code"}} with an HTTP status.
// Every error a client of ours sees is one of these.
struct ApiError
{
    int status = 500;
    QString message;
    QString type = QStringLiteral("server_error");
    QString code;  // empty → null
    QString param; // empty → null
    qint64 retryAfterSeconds = -1;

    QByteArray toJson() const;
    // The same error as an SSE event, for failures after a stream was committed.
    QByteArray toSseEvent() const;

    static ApiError invalidRequest(const QString &message, const QString &param = {},
                                   const QString &code = QStringLiteral("invalid_request"));
    static ApiError unauthorized(const QString &message);
    static ApiError notFound(const QString &message);
};
