#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>

#include <optional>

// What an upstream answer says about its own rate limits. Filled by LimitParsing from headers (later also
// from 429 bodies); read by the rate-limit tracker and the router to set cooldowns.
struct LimitHints
{
    std::optional<qint64> retryAfterMs; // how long until this entry may be tried again, if the answer says
};

// Parsers for the reset/retry formats providers use (PROVIDERS.md §1.2), one function per format, all pure:
// time comes in as nowMs so tests can pin it. Every parser returns nullopt for text it does not recognise,
// and rounds sub-millisecond remainders up so that a retry never happens early.
namespace LimitParsing {

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

// Reads `retry-after-ms` (wins), then `Retry-After`, from response headers (header names case-insensitive).
// A header whose value does not parse is skipped.
LimitHints fromHeaders(const QList<QPair<QByteArray, QByteArray>> &headers, qint64 nowMs);

} // namespace LimitParsing
