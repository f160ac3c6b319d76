#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

// What happened to one client request, attempt by attempt: the log, the stats and the UIs read these.
struct AttemptRecord
{
    enum class Outcome {
        Success,
        Skipped,
        RateLimited,
        ClientError,
        ServerError,
        Timeout,
        NetworkError,
        StreamError
    };

    QString provider;
    QString model;
    Outcome outcome = Outcome::Success;
    int status = 0; // upstream HTTP status, 0 when none
    qint64 latencyMs = 0;
    QString reason; // human-readable, shown in errors and logs

    static QString outcomeName(Outcome outcome);
    QString describe() const; // "groq/llama-3.1-8b-instant (429 rate limited: …)"
};

struct RequestRecord
{
    qint64 startedAtMs = 0;
    QString chain;
    QString provider; // who served it (or the last tried)
    QString model;
    bool stream = false;
    int status = 0; // HTTP status the client got (499: the client went away)
    qint64 latencyMs = 0;
    qint64 firstTokenMs = -1; // streams: time to the first relayed content
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 totalTokens = 0;
    bool tokensEstimated = false;
    QList<AttemptRecord> attempts;
    QString error;
    QString clientKeyLabel; // which proxy key the client used ("key 1"), never the key itself
    QString replica;        // read back from the log: the replica that served it (the store fills it in)
};

Q_DECLARE_METATYPE(RequestRecord)
