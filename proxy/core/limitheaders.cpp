// Header side of LimitParsing: the reset/retry value formats (PROVIDERS.md §1.2), the provider families, and
// the rate-limit header names each uses (Groq/OpenAI, Cerebras, OpenRouter, Mistral and its legacy set,
// Together).
#include "limithints.h"

#include <QVarLengthArray>
#include <QtNumeric>

#include <algorithm>
#include <array>

namespace {

constexpr qint64 NanosPerMs = 1'000'000;
constexpr qint64 NanosPerSecond = 1'000'000'000;
constexpr qint64 MsPerDay = 86'400'000;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

qint64 ceilDiv(qint64 value, qint64 divisor) // value >= 0
{
    return value / divisor + (value % divisor != 0 ? 1 : 0);
}

// A decimal number "[+-]digits[.digits]" read exactly: the fraction is kept as nanoseconds-of-a-unit, rounded
// up past the ninth digit, so "59.56" * 1000 is 59560 and not 59559.999.
struct Decimal
{
    bool negative = false;
    qint64 whole = 0;
    qint64 nanos = 0; // 0 .. 1e9 (1e9 only when rounding up carried)
};

// Reads the digits and optional fraction at `pos`; false if there is no digit at all or `whole` overflows.
bool readNumber(QByteArrayView t, qsizetype &pos, Decimal &d)
{
    int digits = 0;
    while (pos < t.size() && isDigit(t[pos])) {
        if (qMulOverflow(d.whole, qint64(10), &d.whole) ||
            qAddOverflow(d.whole, qint64(t[pos] - '0'), &d.whole))
            return false;
        ++pos;
        ++digits;
    }
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        qint64 scale = NanosPerSecond / 10;
        bool sticky = false;
        while (pos < t.size() && isDigit(t[pos])) {
            const int digit = t[pos] - '0';
            if (scale > 0)
                d.nanos += digit * scale;
            else if (digit != 0)
                sticky = true;
            scale /= 10;
            ++pos;
            ++digits;
        }
        if (sticky)
            ++d.nanos;
    }
    return digits > 0;
}

std::optional<Decimal> parseDecimal(QByteArrayView t)
{
    Decimal d;
    qsizetype pos = 0;
    if (!t.isEmpty() && (t.front() == '+' || t.front() == '-')) {
        d.negative = t.front() == '-';
        ++pos;
    }
    if (!readNumber(t, pos, d) || pos != t.size())
        return std::nullopt;
    return d;
}

// Seconds as milliseconds, sub-millisecond rest rounded up; nullopt on overflow.
std::optional<qint64> secondsToMs(const Decimal &d)
{
    qint64 ms = 0;
    if (qMulOverflow(d.whole, qint64(1000), &ms) || qAddOverflow(ms, ceilDiv(d.nanos, NanosPerMs), &ms))
        return std::nullopt;
    return ms;
}

// The length of one Go duration unit in ns, or 0 if `unit` is none.
qint64 goUnitNanos(QByteArrayView unit)
{
    if (unit == QByteArrayView("h"))
        return 3600 * NanosPerSecond;
    if (unit == QByteArrayView("m"))
        return 60 * NanosPerSecond;
    if (unit == QByteArrayView("s"))
        return NanosPerSecond;
    if (unit == QByteArrayView("ms"))
        return NanosPerMs;
    if (unit == QByteArrayView("us") || unit == QByteArrayView("\xC2\xB5s") ||
        unit == QByteArrayView("\xCE\xBCs"))
        return 1000;
    if (unit == QByteArrayView("ns"))
        return 1;
    return 0;
}

} // namespace

namespace LimitParsing {

std::optional<qint64> parseGoDuration(QByteArrayView text)
{
    const QByteArrayView t = text.trimmed();
    if (t == QByteArrayView("0") || t == QByteArrayView("+0"))
        return 0;
    qsizetype pos = (!t.isEmpty() && t.front() == '+') ? 1 : 0;
    if (pos == t.size())
        return std::nullopt;
    qint64 totalNanos = 0;
    while (pos < t.size()) {
        Decimal d;
        if (!readNumber(t, pos, d))
            return std::nullopt;
        const qsizetype unitStart = pos;
        while (pos < t.size() && !isDigit(t[pos]) && t[pos] != '.')
            ++pos;
        const qint64 unit = goUnitNanos(t.sliced(unitStart, pos - unitStart));
        if (unit == 0)
            return std::nullopt;
        // Units of a second or longer are whole multiples of 1e9 ns: the fraction stays exact in 64 bits.
        const qint64 fractionNanos = unit >= NanosPerSecond ? d.nanos * (unit / NanosPerSecond)
                                                            : ceilDiv(d.nanos * unit, NanosPerSecond);
        qint64 part = 0;
        if (qMulOverflow(d.whole, unit, &part) || qAddOverflow(part, fractionNanos, &part) ||
            qAddOverflow(totalNanos, part, &totalNanos))
            return std::nullopt;
    }
    return ceilDiv(totalNanos, NanosPerMs);
}

std::optional<qint64> parseSeconds(QByteArrayView text)
{
    const std::optional<Decimal> d = parseDecimal(text.trimmed());
    if (!d || d->negative)
        return std::nullopt;
    return secondsToMs(*d);
}

std::optional<qint64> parseRetryAfter(QByteArrayView value, qint64 nowMs)
{
    const QByteArrayView v = value.trimmed();
    if (const std::optional<Decimal> d = parseDecimal(v))
        return d->negative ? std::optional<qint64>(0) : secondsToMs(*d);
    if (const std::optional<qint64> at = parseHttpDate(v, nowMs))
        return std::max<qint64>(0, *at - nowMs);
    return std::nullopt;
}

std::optional<qint64> parseRetryAfterMs(QByteArrayView value)
{
    const std::optional<Decimal> d = parseDecimal(value.trimmed());
    if (!d)
        return std::nullopt;
    if (d->negative)
        return 0;
    return d->whole + (d->nanos > 0 ? 1 : 0);
}

std::optional<qint64> parseResetValue(QByteArrayView value, qint64 nowMs)
{
    const QByteArrayView v = value.trimmed();
    if (const std::optional<qint64> duration = parseGoDuration(v))
        return duration;
    const std::optional<Decimal> d = parseDecimal(v);
    if (!d)
        return std::nullopt;
    if (d->negative)
        return 0;
    const bool fractional = d->nanos > 0;
    constexpr qint64 EpochMsThreshold = 1'000'000'000'000;  // 1e12: later than 2001-09-09 in ms
    constexpr qint64 EpochSecondsThreshold = 1'000'000'000; // 1e9: later than 2001-09-09 in s
    if (d->whole > EpochMsThreshold || (d->whole == EpochMsThreshold && fractional))
        return std::max<qint64>(0, d->whole + (fractional ? 1 : 0) - nowMs);
    const std::optional<qint64> ms = secondsToMs(*d);
    if (!ms)
        return std::nullopt;
    if (d->whole > EpochSecondsThreshold || (d->whole == EpochSecondsThreshold && fractional))
        return std::max<qint64>(0, *ms - nowMs);
    return ms;
}

} // namespace LimitParsing

namespace {

using LimitParsing::Detail::Draft;
using LimitParsing::Detail::Family;
using Span = LimitWindow::Span;
using Unit = LimitWindow::Unit;

enum class Field { Limit, Remaining, Reset };

// What one rate-limit header name says: which value, of which window.
struct HeaderMeaning
{
    Field field = Field::Limit;
    Unit unit = Unit::Requests;
    Span span = Span::Unknown;
    bool bare = false; // X-RateLimit-Limit/-Remaining/-Reset with no unit: OpenRouter's request window
};

// "limit[-rest]", "remaining[-rest]", "reset[-rest]" -> the field and the rest.
bool takeField(QByteArrayView name, Field *field, QByteArrayView *rest)
{
    static constexpr std::array<std::pair<const char *, Field>, 3> fields = {
        {{"limit", Field::Limit}, {"remaining", Field::Remaining}, {"reset", Field::Reset}}};
    for (const auto &[word, value] : fields) {
        const QByteArrayView w(word);
        if (!name.startsWith(w))
            continue;
        const QByteArrayView after = name.sliced(w.size());
        if (!after.isEmpty() && after.front() != '-')
            continue;
        *field = value;
        *rest = after.isEmpty() ? after : after.sliced(1);
        return true;
    }
    return false;
}

std::optional<Unit> unitFromWord(QByteArrayView w)
{
    if (w == QByteArrayView("requests") || w == QByteArrayView("request") || w == QByteArrayView("req") ||
        w == QByteArrayView("reqs"))
        return Unit::Requests;
    if (w == QByteArrayView("tokens") || w == QByteArrayView("token"))
        return Unit::Tokens;
    return std::nullopt; // input-tokens, audio-seconds, query-cost...: not a window we track
}

std::optional<Span> spanFromWord(QByteArrayView w)
{
    if (w == QByteArrayView("minute") || w == QByteArrayView("min") || w == QByteArrayView("1m"))
        return Span::Minute;
    if (w == QByteArrayView("hour") || w == QByteArrayView("1h"))
        return Span::Hour;
    if (w == QByteArrayView("day") || w == QByteArrayView("1d") || w == QByteArrayView("24h"))
        return Span::Day;
    if (w == QByteArrayView("month"))
        return Span::Month;
    return std::nullopt; // "second" and others: a window we cannot name, so we do not guess
}

// x-ratelimit-*-requests / *-tokens without a span: Groq counts requests per day and tokens per minute,
// OpenAI both per minute, SambaNova requests per minute next to its -requests-day set.
Span unsuffixedSpan(Family family, Unit unit)
{
    switch (family) {
    case Family::Groq:
        return unit == Unit::Requests ? Span::Day : Span::Minute;
    case Family::OpenAI:
        return Span::Minute;
    case Family::SambaNova:
        return unit == Unit::Requests ? Span::Minute : Span::Unknown;
    default:
        return Span::Unknown;
    }
}

std::optional<HeaderMeaning> meaningOf(QByteArrayView name, Family family) // name is lower case
{
    HeaderMeaning m;
    QByteArrayView rest;
    if (name.startsWith(QByteArrayView("x-ratelimit-"))) {
        if (!takeField(name.sliced(12), &m.field, &rest))
            return std::nullopt;
        if (rest.isEmpty()) {
            m.bare = true;
            return m;
        }
        const qsizetype dash = rest.indexOf('-');
        const std::optional<Unit> unit = unitFromWord(dash < 0 ? rest : rest.first(dash));
        if (!unit)
            return std::nullopt;
        m.unit = *unit;
        if (dash < 0) {
            m.span = unsuffixedSpan(family, *unit);
            return m;
        }
        const std::optional<Span> span = spanFromWord(rest.sliced(dash + 1));
        if (!span)
            return std::nullopt;
        m.span = *span;
        return m;
    }
    // Mistral's legacy token budget: ratelimitbysize-* (per minute) and x-ratelimitbysize-*-minute / -month.
    const qsizetype bySize = name.startsWith(QByteArrayView("x-ratelimitbysize-")) ? 18
                             : name.startsWith(QByteArrayView("ratelimitbysize-")) ? 16
                                                                                   : 0;
    if (bySize > 0) {
        if (!takeField(name.sliced(bySize), &m.field, &rest))
            return std::nullopt;
        m.unit = Unit::Tokens;
        const std::optional<Span> span =
            rest.isEmpty() ? std::optional<Span>(Span::Minute) : spanFromWord(rest);
        if (!span)
            return std::nullopt;
        m.span = *span;
        return m;
    }
    if (name.startsWith(QByteArrayView("x-tokenlimit-"))) { // Together
        if (!takeField(name.sliced(13), &m.field, &rest) || !rest.isEmpty())
            return std::nullopt;
        m.unit = Unit::Tokens;
        return m;
    }
    return std::nullopt;
}

// The window an unsuffixed OpenRouter reset belongs to, when no message named it: a reset on a UTC midnight
// more than a minute away is the daily cap, one on a minute boundary within a minute is the per-minute limit.
Span inferBareSpan(const Draft &d, std::optional<qint64> resetAtMs)
{
    if (d.family != Family::OpenRouter || !resetAtMs)
        return Span::Unknown;
    const qint64 in = *resetAtMs - d.nowMs;
    if (*resetAtMs % MsPerDay == 0 && in > 61'000)
        return Span::Day;
    if (*resetAtMs % 60'000 == 0 && in <= 61'000)
        return Span::Minute;
    return Span::Unknown;
}

// One window's values as headers deliver them, before they become a LimitWindow.
struct PartialWindow
{
    Unit unit;
    Span span;
    bool bare;
    std::optional<qint64> limit;
    std::optional<qint64> remaining;
    std::optional<qint64> resetAtMs;
};

} // namespace

namespace LimitParsing::Detail {

Family familyOf(const QString &providerType)
{
    static constexpr std::array<std::pair<const char *, Family>, 14> types = {{
        {"groq", Family::Groq},
        {"openai", Family::OpenAI},
        {"cerebras", Family::Cerebras},
        {"openrouter", Family::OpenRouter},
        {"google-ai", Family::Gemini},
        {"gemini", Family::Gemini},
        {"google", Family::Gemini},
        {"mistral", Family::Mistral},
        {"nvidia-nim", Family::Nvidia},
        {"nvidia", Family::Nvidia},
        {"cloudflare", Family::Cloudflare},
        {"workers-ai", Family::Cloudflare},
        {"sambanova", Family::SambaNova},
        {"generic-openai", Family::Generic},
    }};
    const QString type = providerType.trimmed();
    for (const auto &[name, family] : types) {
        if (type.compare(QLatin1String(name), Qt::CaseInsensitive) == 0)
            return family;
    }
    return Family::Generic;
}

QLatin1String familyLabel(Family family)
{
    switch (family) {
    case Family::OpenAI:
        return QLatin1String("OpenAI");
    case Family::Groq:
        return QLatin1String("Groq");
    case Family::Cerebras:
        return QLatin1String("Cerebras");
    case Family::OpenRouter:
        return QLatin1String("OpenRouter");
    case Family::Mistral:
        return QLatin1String("Mistral");
    case Family::Gemini:
        return QLatin1String("Gemini");
    case Family::Nvidia:
        return QLatin1String("NVIDIA");
    case Family::Cloudflare:
        return QLatin1String("Cloudflare");
    case Family::SambaNova:
        return QLatin1String("SambaNova");
    case Family::Generic:
        break;
    }
    return QLatin1String();
}

std::optional<qint64> parseCount(QByteArrayView text)
{
    const std::optional<Decimal> d = parseDecimal(text.trimmed());
    constexpr qint64 MaxCount = qint64(1) << 53;
    if (!d || d->whole > MaxCount)
        return std::nullopt;
    return d->negative ? -d->whole : d->whole;
}

std::optional<qint64> absoluteFrom(qint64 nowMs, std::optional<qint64> inMs)
{
    qint64 at = 0;
    if (!inMs || *inMs < 0 || *inMs > MaxHorizonMs || qAddOverflow(nowMs, *inMs, &at))
        return std::nullopt;
    return at;
}

void readHeaders(const Headers &headers, Draft &d, bool fromBody)
{
    QVarLengthArray<PartialWindow, 8> parts;
    for (const auto &header : headers) {
        const QByteArrayView rawName = QByteArrayView(header.first).trimmed();
        if (rawName.size() < 11 || rawName.size() > 64) // "retry-after" is the shortest we read
            continue;
        const char first = char(rawName.front() | 0x20);
        if (first != 'x' && first != 'r')
            continue;
        const QByteArray name = rawName.toByteArray().toLower();
        const QByteArrayView value = QByteArrayView(header.second).trimmed();
        if (name == QByteArrayView("retry-after-ms") || name == QByteArrayView("retry-after")) {
            const std::optional<qint64> ms =
                name.size() == 11 ? parseRetryAfter(value, d.nowMs) : parseRetryAfterMs(value);
            std::optional<qint64> &slot = name.size() == 11 ? d.retryAfterHeader : d.retryAfterMsHeader;
            if (ms && fromBody)
                d.addBodyRetry(*ms);
            else if (ms && !slot)
                slot = ms;
            continue;
        }
        const std::optional<HeaderMeaning> m = meaningOf(name, d.family);
        if (!m)
            continue;
        auto part = std::find_if(parts.begin(), parts.end(), [&m](const PartialWindow &p) {
            return p.unit == m->unit && p.span == m->span && p.bare == m->bare;
        });
        if (part == parts.end()) {
            parts.append(PartialWindow{m->unit, m->span, m->bare, {}, {}, {}});
            part = parts.end() - 1;
        }
        switch (m->field) {
        case Field::Limit:
            if (const std::optional<qint64> n = parseCount(value); n && *n >= 0 && !part->limit)
                part->limit = n;
            break;
        case Field::Remaining:
            if (const std::optional<qint64> n = parseCount(value); n && !part->remaining)
                part->remaining = std::max<qint64>(0, *n);
            break;
        case Field::Reset:
            if (!part->resetAtMs)
                part->resetAtMs = absoluteFrom(d.nowMs, parseResetValue(value, d.nowMs));
            break;
        }
    }
    for (const PartialWindow &p : parts) {
        if (!p.limit && !p.remaining && !p.resetAtMs)
            continue;
        LimitWindow w;
        w.unit = p.unit;
        w.span = p.span;
        w.limit = p.limit;
        w.remaining = p.remaining;
        w.resetAtMs = p.resetAtMs;
        if (p.bare) {
            w.span = d.bareSpan != Span::Unknown ? d.bareSpan : inferBareSpan(d, p.resetAtMs);
            w.providerWide = d.bareProviderWide;
            if (p.resetAtMs && !d.bareResetAtMs)
                d.bareResetAtMs = p.resetAtMs;
        }
        d.addWindow(w);
    }
}

} // namespace LimitParsing::Detail
