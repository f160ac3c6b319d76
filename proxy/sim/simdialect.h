#pragma once

#include "simulatedprovider.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

// What each provider dialect says where they differ: rate-limit headers, 429 / 401 / generic error bodies,
// the mid-stream error event and the models list (PROVIDERS.md §2.1-2.4). Pure functions of their inputs,
// used by SimulatedProvider; time comes in as nowMs.
namespace SimDialect {

using Dialect = SimulatedProvider::Dialect;
using Headers = QList<QPair<QByteArray, QByteArray>>;

struct Reply
{
    int status = 200;
    QByteArray body;
    Headers headers;
};

// The limiter's window as seen by one answer.
struct WindowState
{
    int limit = 0;        // requests allowed per window
    int remaining = 0;    // requests left after this one
    qint64 resetInMs = 0; // until the window restarts
    int tokenLimit = 0;   // tokens per window, for the dialects that report tokens
    int tokensRemaining = 0;
};

struct RateLimitFacts
{
    QString model;
    bool dailyCap = false;
    std::optional<qint64> retryAfterSeconds; // sent as Retry-After
    std::optional<qint64> resetInMs;         // when the limit lifts, if known; else the dialect's usual hint
    std::optional<WindowState> window;       // the limiter's state: adds the dialect's rate-limit headers
    int limit = 0;                           // named in messages; 0 = the dialect's usual free limit
    qint64 nowMs = 0;
};

// Rate-limit headers of a successful answer (none for Gemini).
Headers windowHeaders(Dialect dialect, const WindowState &window, qint64 nowMs);
Reply rateLimited(Dialect dialect, const RateLimitFacts &facts);
Reply unauthorized(Dialect dialect, bool keyMissing);
// A body in the dialect's error shape for any status (used for 404, bad JSON and Status steps without a
// body).
QByteArray errorBody(Dialect dialect, int status, const QString &message);
// The error object carried by a mid-stream error (the `error` member).
QByteArray inBandErrorObject(Dialect dialect);
QByteArray modelsList(Dialect dialect, const QStringList &ids, qint64 nowMs);
QStringList defaultModels(Dialect dialect);

// Go duration text as Groq and OpenAI print it: "2m59.56s", "7.66s", "12ms", "6m0s", "1h2m3.5s".
QByteArray goDuration(qint64 ms);
// Float seconds as Cerebras prints them: "11.38", "33011.382867".
QByteArray floatSeconds(qint64 ms);
// The next 00:00 UTC after nowMs, in epoch ms.
qint64 nextUtcMidnightMs(qint64 nowMs);

} // namespace SimDialect
