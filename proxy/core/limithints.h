#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QLatin1String>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

// One quota window an upstream answer told us about: "14400 requests per day, 14370 left, refills at T".
// Produced by LimitParsing::parse(); the rate-limit tracker stores them per provider+model (or per provider
// when providerWide). Times are absolute (ms since the Unix epoch), so a stored window never drifts.
struct LimitWindow
{
    enum class Unit { Requests, Tokens };
    // Unknown: the answer did not say (generic headers, an error naming no window).
    enum class Span { Minute, Hour, Day, Month, Unknown };

    Unit unit = Unit::Requests;
    Span span = Span::Unknown;
    std::optional<qint64> limit;     // size of the window; 0 means no allowance at all
    std::optional<qint64> remaining; // what is left, >= 0
    std::optional<qint64> resetAtMs; // when the window refills
    bool resetEstimated = false; // resetAtMs is a calendar boundary we inferred, not a value the answer gave
    bool exceeded = false;       // the error answer names this window as the one that refused the request
    bool providerWide = false;   // shared by every model of the provider (OpenRouter's :free daily pool)

    // Nothing can be served from this window until resetAtMs: it was exceeded or has nothing left.
    bool isExhausted() const { return exceeded || (remaining && *remaining <= 0); }

    static QLatin1String unitName(Unit unit); // "requests", "tokens"
    static QLatin1String spanName(Span span); // "minute", "hour", "day", "month", "unknown"
    bool operator==(const LimitWindow &other) const;
};

// Everything one upstream answer (status, headers, and the body of an error) says about rate limits, in one
// provider-neutral shape. Built by LimitParsing::parse(); the router and the tracker act on it.
struct LimitSignal
{
    // What the answer means for the entry. None: not a limit answer (every 2xx, and errors such as
    // 400/401/5xx); the windows may still say a quota is empty, see exhaustedUntilMs().
    enum class Kind {
        None,
        // A short request window (or one the answer does not name) is spent: retry after the hint.
        RateLimit,
        // A day-or-longer quota (RPD, TPD, monthly tokens, daily neurons) is spent: wait for its reset.
        DailyCap,
        // A short token window (TPM) is spent; a smaller request may fit sooner.
        TokenLimit,
        // 402 and friends: money or a key budget, not a window.
        Credits,
        // The provider (or its shared upstream pool) is busy, not this account's quota: retry soon or
        // elsewhere, and do not learn a ceiling from it.
        Capacity,
        // No allowance at all for this model (Mistral limit 0, Gemini "limit: 0"): no reset will help.
        ZeroAllowance,
        // 413: this request can never fit this tier (Groq "Request too large ... TPM"); skip the entry for
        // this request only.
        TooLargeForTier,
        // A 429 that names nothing we recognise.
        Unknown
    };

    QList<LimitWindow> windows;         // every quota window the answer described, one per unit+span
    std::optional<qint64> retryAfterMs; // from receivedAtMs: retry-after-ms > Retry-After > body hints
    Kind kind = Kind::None;
    bool providerWide = false; // the limit hit is shared by all models of the provider
    QString reason;            // short text for logs and UIs: "429 tokens per day (Groq TPD)"
    qint64 receivedAtMs = 0;   // the nowMs given to parse()

    // The best known instant the entry can serve again, or nullopt if the answer does not say (then use a
    // configured default). The latest of retryAfterMs and the reset of every exhausted window, never earlier
    // than nowMs. Nullopt for ZeroAllowance (no reset helps: disable the entry) and TooLargeForTier unless a
    // window is empty too.
    std::optional<qint64> exhaustedUntilMs(qint64 nowMs) const;
    // The window for a unit and span, or nullptr.
    const LimitWindow *window(LimitWindow::Unit unit, LimitWindow::Span span) const;
    bool hasQuotaInfo() const { return !windows.isEmpty(); }

    static QLatin1String kindName(Kind kind); // "none", "rate_limit", "daily_cap", ... for logs and JSON
};

// Parsers for every limit signal providers send (PROVIDERS.md §1.2 and §2). The format parsers are pure: time
// comes in as nowMs so tests can pin it; each returns nullopt for text it does not recognise and rounds
// sub-millisecond remainders up so that a retry never happens early. parse() never throws and accepts
// garbage.
namespace LimitParsing {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// Reads one upstream answer. providerType is the config `type` (groq, openai, cerebras, openrouter,
// google-ai, mistral, nvidia-nim, generic-openai; unknown types are read by format alone); it decides what
// unsuffixed header windows mean (Groq requests = per day, OpenAI = per minute) and which calendar a day
// follows (Gemini: midnight America/Los_Angeles; others UTC). The body is read only when status >= 400; for a
// mid-stream error event pass the event's JSON and its error code as status.
LimitSignal parse(const QString &providerType, int status, const Headers &headers, const QByteArray &body,
                  qint64 nowMs);

// Go-style durations "2m59.56s", "7.66s", "1ms", "6m0s", "1h2m3.5s" -> ms. Units h, m, s, ms, us/µs, ns;
// a bare "0" is zero. Negative or unit-less values are nullopt.
std::optional<qint64> parseGoDuration(QByteArrayView text);

// Plain non-negative decimal seconds, "28" or "33011.382867" -> ms. Nullopt for anything else.
std::optional<qint64> parseSeconds(QByteArrayView text);

// HTTP-date (IMF-fixdate, RFC 850, asctime; RFC 9110 §5.6.7) -> ms since the Unix epoch. nowMs resolves RFC
// 850 two-digit years.
std::optional<qint64> parseHttpDate(QByteArrayView text, qint64 nowMs);

// Retry-After header value: integer or float seconds, or an HTTP-date relative to nowMs; negative results
// clamp to 0.
std::optional<qint64> parseRetryAfter(QByteArrayView value, qint64 nowMs);

// `retry-after-ms` header value (the OpenAI SDK convention): integer or float milliseconds.
std::optional<qint64> parseRetryAfterMs(QByteArrayView value);

// A format-agnostic reset value: Go duration, epoch ms (>1e12), epoch s (>1e9), else seconds from now (int or
// float) -> ms from now, clamped to >= 0.
std::optional<qint64> parseResetValue(QByteArrayView value, qint64 nowMs);

// Calendar boundaries strictly after nowMs, for windows whose reset the provider does not send.
qint64 nextMinuteMs(qint64 nowMs);
qint64 nextHourMs(qint64 nowMs);
qint64 nextUtcMidnightMs(qint64 nowMs);
qint64 nextUtcMonthStartMs(qint64 nowMs);
qint64 nextPacificMidnightMs(qint64 nowMs); // America/Los_Angeles, DST-aware (Gemini's daily quota)

} // namespace LimitParsing

// Shared by limithints.cpp, limitheaders.cpp and limitbodies.cpp, and open to tests; not for other callers.
// parse() fills a Draft from the body, then the headers, then turns it into a LimitSignal.
namespace LimitParsing::Detail {

// Provider families whose names or formats differ; decided by the config type.
enum class Family {
    Generic,
    OpenAI,
    Groq,
    Cerebras,
    OpenRouter,
    Mistral,
    Gemini,
    Nvidia,
    Cloudflare,
    SambaNova
};
Family familyOf(const QString &providerType);
QLatin1String familyLabel(Family family); // "Groq", "OpenRouter", ...; empty for Generic

// Which wall clock a provider's daily quota follows, when we know it.
enum class DayClock { Unknown, Utc, Pacific };

// Resets and retries further away than this are garbage, not quota (a month window is at most 31 days).
constexpr qint64 MaxHorizonMs = 400LL * 24 * 3600 * 1000;

// A count from a header or JSON string: "14400", " 14400 ", "14400.0" (truncated), "-3"; nullopt for anything
// else or beyond 2^53.
std::optional<qint64> parseCount(QByteArrayView text);
// nowMs + inMs, or nullopt when inMs is missing, negative or beyond MaxHorizonMs.
std::optional<qint64> absoluteFrom(qint64 nowMs, std::optional<qint64> inMs);

// What the readers have found so far in one answer; finish() in limithints.cpp turns it into a LimitSignal.
struct Draft
{
    Family family = Family::Generic;
    int status = 0;
    qint64 nowMs = 0;
    QList<LimitWindow> windows;
    std::optional<qint64> retryAfterMsHeader;  // retry-after-ms
    std::optional<qint64> retryAfterHeader;    // Retry-After
    std::optional<qint64> bodyRetryMs;         // the longest retry hint found in the body
    std::optional<LimitSignal::Kind> bodyKind; // Capacity / Credits / DailyCap when the body says so outright
    bool recognised = false; // the body is a limit answer we know, even if it names no window
    bool zeroAllowance = false;
    bool providerWide = false;
    bool tooLarge = false;
    DayClock dayClock = DayClock::Unknown;
    LimitWindow::Span bareSpan = LimitWindow::Span::Unknown; // what an unsuffixed X-RateLimit-* window covers
    bool bareProviderWide = false;
    std::optional<qint64> bareResetAtMs; // X-RateLimit-Reset without suffix: a retry hint on an error
    QString label;                       // what named the limit: "Groq TPD", "OpenRouter free-models-per-day"

    // Adds a window, merging with one of the same unit+span (known fields win, flags add up).
    void addWindow(const LimitWindow &window);
    void addBodyRetry(qint64 ms);
    void setLabel(const QString &text);
};

// Header windows and retry-after values; fromBody marks OpenRouter's error.metadata.headers copy.
void readHeaders(const Headers &headers, Draft &draft, bool fromBody);
// Error bodies: OpenAI/Groq/OpenRouter `{"error":{...}}`, Gemini arrays, Cerebras/Mistral/NVIDIA flat
// objects, Cloudflare `errors[]`, and text heuristics when the JSON is cut or not JSON.
void readBody(const QByteArray &body, Draft &draft);
// The hand-coded US Pacific rule (second Sunday of March to first Sunday of November), used when the system
// has no time zone data.
qint64 nextPacificMidnightByRuleMs(qint64 nowMs);

} // namespace LimitParsing::Detail
