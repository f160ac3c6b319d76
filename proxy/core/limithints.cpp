// The public face of LimitParsing: parse() assembles what the header and body readers found
// (limitheaders.cpp, limitbodies.cpp) into one LimitSignal, plus HTTP-dates and the calendar boundaries
// resets fall on.
#include "limithints.h"

#include <QDate>
#include <QDateTime>
#include <QTimeZone>

#include <algorithm>
#include <array>

namespace {

using LimitParsing::Detail::DayClock;
using LimitParsing::Detail::Draft;
using LimitParsing::Detail::Family;
using Kind = LimitSignal::Kind;
using Span = LimitWindow::Span;
using Unit = LimitWindow::Unit;

constexpr qint64 MsPerMinute = 60'000;
constexpr qint64 MsPerHour = 3'600'000;
constexpr qint64 MsPerDay = 86'400'000;
constexpr qint64 UnixEpochJulianDay = 2'440'588;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

qint64 floorDiv(qint64 value, qint64 divisor) // divisor > 0
{
    return value / divisor - (value % divisor < 0 ? 1 : 0);
}

qint64 nextMultiple(qint64 nowMs, qint64 step)
{
    return (floorDiv(nowMs, step) + 1) * step;
}

QDate utcDate(qint64 ms)
{
    return QDate::fromJulianDay(floorDiv(ms, MsPerDay) + UnixEpochJulianDay);
}

qint64 startOfUtcDay(const QDate &date)
{
    return (date.toJulianDay() - UnixEpochJulianDay) * MsPerDay;
}

// The n-th (1-based) Sunday of a month.
QDate nthSunday(int year, int month, int n)
{
    const QDate first(year, month, 1);
    return first.addDays((7 - first.dayOfWeek()) % 7 + 7 * (n - 1));
}

// UTC offset of America/Los_Angeles by the US rule in force since 2007: PDT from the second Sunday of March,
// 02:00 PST (10:00 UTC), to the first Sunday of November, 02:00 PDT (09:00 UTC).
qint64 pacificOffsetByRuleMs(qint64 utcMs)
{
    const int year = utcDate(utcMs).year();
    const qint64 dstStart = startOfUtcDay(nthSunday(year, 3, 2)) + 10 * MsPerHour;
    const qint64 dstEnd = startOfUtcDay(nthSunday(year, 11, 1)) + 9 * MsPerHour;
    return utcMs >= dstStart && utcMs < dstEnd ? -7 * MsPerHour : -8 * MsPerHour;
}

class Cursor
{
public:
    explicit Cursor(QByteArrayView text) : m_text(text) {}

    bool atEnd() const { return m_pos == m_text.size(); }
    bool skipSpaces() // true if at least one was skipped
    {
        const qsizetype start = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] == ' ')
            ++m_pos;
        return m_pos > start;
    }
    bool accept(char c)
    {
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    QByteArrayView word()
    {
        const qsizetype start = m_pos;
        while (m_pos < m_text.size() && ((m_text[m_pos] | 0x20) >= 'a' && (m_text[m_pos] | 0x20) <= 'z'))
            ++m_pos;
        return m_text.sliced(start, m_pos - start);
    }
    // 1..maxDigits digits; `count` says how many were read.
    bool number(int maxDigits, int *value, int *count = nullptr)
    {
        int n = 0;
        int v = 0;
        while (n < maxDigits && m_pos < m_text.size() && isDigit(m_text[m_pos])) {
            v = v * 10 + (m_text[m_pos] - '0');
            ++m_pos;
            ++n;
        }
        if (n == 0 || (m_pos < m_text.size() && isDigit(m_text[m_pos])))
            return false;
        *value = v;
        if (count)
            *count = n;
        return true;
    }

private:
    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

bool isDayName(QByteArrayView word)
{
    static const std::array<const char *, 14> names = {
        "Mon",    "Tue",     "Wed",       "Thu",      "Fri",    "Sat",      "Sun",
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    return std::any_of(names.begin(), names.end(), [word](const char *name) {
        return word.compare(QByteArrayView(name), Qt::CaseInsensitive) == 0;
    });
}

int monthNumber(QByteArrayView word) // 1..12, or 0
{
    static const std::array<const char *, 12> names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (size_t i = 0; i < names.size(); ++i) {
        if (word.compare(QByteArrayView(names[i]), Qt::CaseInsensitive) == 0)
            return int(i) + 1;
    }
    return 0;
}

bool readTime(Cursor &c, int *h, int *m, int *s)
{
    return c.number(2, h) && c.accept(':') && c.number(2, m) && c.accept(':') && c.number(2, s);
}

// RFC 9110: a two-digit year more than 50 years in the future is the most recent past year with those digits.
int expandTwoDigitYear(int yy, qint64 nowMs)
{
    const qint64 nowDays = (nowMs >= 0 ? nowMs : nowMs - MsPerDay + 1) / MsPerDay;
    const int nowYear = QDate::fromJulianDay(nowDays + UnixEpochJulianDay).year();
    int year = nowYear - nowYear % 100 + yy;
    if (year > nowYear + 50)
        year -= 100;
    return year;
}

std::optional<qint64> calendarReset(Span span, DayClock clock, qint64 nowMs)
{
    switch (span) {
    case Span::Minute:
        return LimitParsing::nextMinuteMs(nowMs);
    case Span::Hour:
        return LimitParsing::nextHourMs(nowMs);
    case Span::Day:
        return clock == DayClock::Pacific ? LimitParsing::nextPacificMidnightMs(nowMs)
                                          : LimitParsing::nextUtcMidnightMs(nowMs);
    case Span::Month:
        return LimitParsing::nextUtcMonthStartMs(nowMs);
    case Span::Unknown:
        break;
    }
    return std::nullopt;
}

// Day and longer first, then token windows, then the rest: the window that decides how long the entry waits.
int severity(const LimitWindow &w)
{
    if (w.span == Span::Day || w.span == Span::Month)
        return 3;
    return w.unit == Unit::Tokens ? 2 : 1;
}

Kind kindOf(const Draft &d, const std::optional<qint64> &retry)
{
    if (d.status < 400)
        return Kind::None;
    if (d.status == 413 || d.tooLarge)
        return Kind::TooLargeForTier;
    if (d.status == 402)
        return Kind::Credits;
    const bool zero =
        d.zeroAllowance || std::any_of(d.windows.begin(), d.windows.end(),
                                       [](const LimitWindow &w) { return w.limit && *w.limit == 0; });
    if ((d.status == 429 || d.status == 403) && zero)
        return Kind::ZeroAllowance;
    if (d.bodyKind)
        return *d.bodyKind;
    if (d.status == 498) // Groq flex tier: capacity_exceeded
        return Kind::Capacity;
    if (d.status == 429) {
        int worst = 0; // the windows the body named, and any other the headers show empty
        for (const LimitWindow &w : d.windows) {
            if (w.isExhausted())
                worst = std::max(worst, severity(w));
        }
        if (worst == 3)
            return Kind::DailyCap;
        if (worst == 2)
            return Kind::TokenLimit;
        return worst > 0 || d.recognised || !d.windows.isEmpty() || retry ? Kind::RateLimit : Kind::Unknown;
    }
    if ((d.status == 503 || d.status == 529) && retry)
        return Kind::Capacity;
    return Kind::None;
}

QString describe(const LimitWindow &w)
{
    if (w.span == Span::Unknown)
        return LimitWindow::unitName(w.unit) + QLatin1String(" limit");
    return LimitWindow::unitName(w.unit) + QLatin1String(" per ") + LimitWindow::spanName(w.span);
}

const LimitWindow *primaryWindow(const LimitSignal &s)
{
    const LimitWindow *best = nullptr;
    for (const LimitWindow &w : s.windows) {
        const bool relevant = s.kind == Kind::ZeroAllowance     ? w.limit && *w.limit == 0
                              : s.kind == Kind::TooLargeForTier ? true
                                                                : w.isExhausted();
        if (relevant && (!best || severity(w) > severity(*best) || (!best->exceeded && w.exceeded)))
            best = &w;
    }
    return best;
}

QString reasonFor(const LimitSignal &s, const Draft &d)
{
    const LimitWindow *w = primaryWindow(s);
    QString text;
    switch (s.kind) {
    case Kind::None:
        if (!w)
            return QString();
        text = describe(*w) + QLatin1String(" used up");
        break;
    case Kind::RateLimit:
    case Kind::DailyCap:
    case Kind::TokenLimit:
    case Kind::Unknown:
        text = w                          ? describe(*w)
               : s.kind == Kind::DailyCap ? QStringLiteral("daily quota used up")
                                          : QStringLiteral("rate limited");
        break;
    case Kind::Credits:
        text = QStringLiteral("credits exhausted");
        break;
    case Kind::Capacity:
        text = QStringLiteral("provider at capacity");
        break;
    case Kind::ZeroAllowance:
        text = QStringLiteral("no allowance for this model");
        if (w)
            text += QLatin1String(": ") + describe(*w) + QLatin1String(" limit is 0");
        break;
    case Kind::TooLargeForTier:
        text = QStringLiteral("request too large for this tier");
        if (w && w->limit)
            text +=
                QLatin1String(": ") + describe(*w) + QLatin1String(" limit ") + QString::number(*w->limit);
        break;
    }
    if (s.kind != Kind::None)
        text = QString::number(d.status) + QLatin1Char(' ') + text;
    if (!d.label.isEmpty())
        text += QLatin1String(" (") + d.label + QLatin1Char(')');
    if (s.providerWide)
        text += QLatin1String(", provider-wide");
    return text;
}

std::optional<qint64> withinHorizon(const std::optional<qint64> &ms)
{
    return ms && *ms >= 0 && *ms <= LimitParsing::Detail::MaxHorizonMs ? ms : std::nullopt;
}

LimitSignal finish(Draft &d)
{
    LimitSignal s;
    s.receivedAtMs = d.nowMs;
    const bool error = d.status >= 400;

    std::optional<qint64> bodyHint = withinHorizon(d.bodyRetryMs);
    if (d.status == 429 && d.bareResetAtMs) // OpenRouter: X-RateLimit-Reset is when to come back
        bodyHint = std::max(bodyHint.value_or(0), std::max<qint64>(0, *d.bareResetAtMs - d.nowMs));
    if (const std::optional<qint64> ms = withinHorizon(d.retryAfterMsHeader))
        s.retryAfterMs = ms;
    else if (const std::optional<qint64> header = withinHorizon(d.retryAfterHeader))
        s.retryAfterMs = header;
    else if (error)
        s.retryAfterMs = bodyHint;

    // A 429 whose body named no window is about the windows its headers show empty.
    if (d.status == 429 &&
        std::none_of(d.windows.begin(), d.windows.end(), [](const LimitWindow &w) { return w.exceeded; })) {
        for (LimitWindow &w : d.windows)
            w.exceeded = w.remaining && *w.remaining <= 0;
    }
    s.kind = kindOf(d, s.retryAfterMs);

    for (LimitWindow &w : d.windows) {
        if (w.resetAtMs)
            continue;
        // A daily cap follows its provider's calendar even when a short retry hint says otherwise.
        const bool calendarKnown =
            w.span == Span::Month || (w.span == Span::Day && d.dayClock != DayClock::Unknown);
        if (w.isExhausted() && !calendarKnown && s.retryAfterMs && error) {
            w.resetAtMs = d.nowMs + *s.retryAfterMs;
            continue;
        }
        w.resetAtMs = calendarReset(w.span, d.dayClock, d.nowMs);
        w.resetEstimated = w.resetAtMs.has_value();
    }

    s.providerWide =
        s.kind != Kind::None &&
        (d.providerWide || std::any_of(d.windows.begin(), d.windows.end(),
                                       [](const LimitWindow &w) { return w.exceeded && w.providerWide; }));
    s.windows = d.windows;
    s.reason = reasonFor(s, d);
    return s;
}

} // namespace

bool LimitWindow::operator==(const LimitWindow &other) const
{
    return unit == other.unit && span == other.span && limit == other.limit && remaining == other.remaining &&
           resetAtMs == other.resetAtMs && resetEstimated == other.resetEstimated &&
           exceeded == other.exceeded && providerWide == other.providerWide;
}

QLatin1String LimitWindow::unitName(Unit unit)
{
    return unit == Unit::Tokens ? QLatin1String("tokens") : QLatin1String("requests");
}

QLatin1String LimitWindow::spanName(Span span)
{
    switch (span) {
    case Span::Minute:
        return QLatin1String("minute");
    case Span::Hour:
        return QLatin1String("hour");
    case Span::Day:
        return QLatin1String("day");
    case Span::Month:
        return QLatin1String("month");
    case Span::Unknown:
        break;
    }
    return QLatin1String("unknown");
}

std::optional<qint64> LimitSignal::exhaustedUntilMs(qint64 nowMs) const
{
    if (kind == Kind::ZeroAllowance)
        return std::nullopt;
    std::optional<qint64> until;
    if (retryAfterMs && kind != Kind::None && kind != Kind::TooLargeForTier)
        until = receivedAtMs + *retryAfterMs;
    for (const LimitWindow &w : windows) {
        if (w.isExhausted() && w.resetAtMs)
            until = std::max(until.value_or(*w.resetAtMs), *w.resetAtMs);
    }
    if (!until)
        return std::nullopt;
    return std::max(*until, nowMs);
}

const LimitWindow *LimitSignal::window(LimitWindow::Unit unit, LimitWindow::Span span) const
{
    for (const LimitWindow &w : windows) {
        if (w.unit == unit && w.span == span)
            return &w;
    }
    return nullptr;
}

QLatin1String LimitSignal::kindName(Kind kind)
{
    static constexpr std::array<const char *, 9> names = {
        "none",     "rate_limit",     "daily_cap",          "token_limit", "credits",
        "capacity", "zero_allowance", "too_large_for_tier", "unknown"};
    const auto index = size_t(kind);
    return QLatin1String(index < names.size() ? names[index] : "unknown");
}

namespace LimitParsing {

LimitSignal parse(const QString &providerType, int status, const Headers &headers, const QByteArray &body,
                  qint64 nowMs)
{
    Draft d;
    d.family = Detail::familyOf(providerType);
    d.status = status;
    d.nowMs = nowMs;
    d.dayClock = d.family == Family::Gemini                                         ? DayClock::Pacific
                 : d.family == Family::OpenRouter || d.family == Family::Cloudflare ? DayClock::Utc
                                                                                    : DayClock::Unknown;
    // Bodies of successes are completions, not limit signals; errors are read before the headers because the
    // body tells what OpenRouter's unsuffixed X-RateLimit-* headers count.
    if (status == 402 || status == 413 || status == 429 || status == 498 || (status >= 500 && status <= 599))
        Detail::readBody(body, d);
    Detail::readHeaders(headers, d, false);
    return finish(d);
}

std::optional<qint64> parseHttpDate(QByteArrayView text, qint64 nowMs)
{
    Cursor c(text.trimmed());
    if (!isDayName(c.word()))
        return std::nullopt;
    int day = 0, month = 0, year = 0, yearDigits = 0, hour = 0, minute = 0, second = 0;
    if (c.accept(',')) {
        c.skipSpaces();
        if (!c.number(2, &day))
            return std::nullopt;
        if (c.accept('-')) { // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            month = monthNumber(c.word());
            if (!c.accept('-') || !c.number(4, &year, &yearDigits))
                return std::nullopt;
        } else { // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            if (!c.skipSpaces())
                return std::nullopt;
            month = monthNumber(c.word());
            if (!c.skipSpaces() || !c.number(4, &year, &yearDigits))
                return std::nullopt;
        }
        if (!c.skipSpaces() || !readTime(c, &hour, &minute, &second))
            return std::nullopt;
        c.skipSpaces();
        const QByteArrayView zone = c.word();
        if (!zone.isEmpty() && zone.compare(QByteArrayView("GMT"), Qt::CaseInsensitive) != 0 &&
            zone.compare(QByteArrayView("UTC"), Qt::CaseInsensitive) != 0 &&
            zone.compare(QByteArrayView("UT"), Qt::CaseInsensitive) != 0)
            return std::nullopt;
    } else { // asctime: Sun Nov  6 08:49:37 1994
        if (!c.skipSpaces())
            return std::nullopt;
        month = monthNumber(c.word());
        if (!c.skipSpaces() || !c.number(2, &day) || !c.skipSpaces() ||
            !readTime(c, &hour, &minute, &second) || !c.skipSpaces() || !c.number(4, &year, &yearDigits))
            return std::nullopt;
    }
    c.skipSpaces();
    if (!c.atEnd() || month == 0 || (yearDigits != 2 && yearDigits != 4) || hour > 23 || minute > 59 ||
        second > 60)
        return std::nullopt;
    if (yearDigits == 2)
        year = expandTwoDigitYear(year, nowMs);
    const QDate date(year, month, day);
    if (!date.isValid())
        return std::nullopt;
    const qint64 days = date.toJulianDay() - UnixEpochJulianDay;
    const qint64 seconds = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59);
    return seconds * 1000;
}

qint64 nextMinuteMs(qint64 nowMs)
{
    return nextMultiple(nowMs, MsPerMinute);
}

qint64 nextHourMs(qint64 nowMs)
{
    return nextMultiple(nowMs, MsPerHour);
}

qint64 nextUtcMidnightMs(qint64 nowMs)
{
    return nextMultiple(nowMs, MsPerDay);
}

qint64 nextUtcMonthStartMs(qint64 nowMs)
{
    const QDate today = utcDate(nowMs);
    return startOfUtcDay(QDate(today.year(), today.month(), 1).addMonths(1));
}

qint64 nextPacificMidnightMs(qint64 nowMs)
{
    static const QTimeZone pacific(QByteArrayLiteral("America/Los_Angeles"));
    if (!pacific.isValid())
        return Detail::nextPacificMidnightByRuleMs(nowMs);
    const QDateTime local = QDateTime::fromMSecsSinceEpoch(nowMs, pacific);
    const QDateTime next(local.date().addDays(1), QTime(0, 0), pacific); // US zones never skip midnight
    return next.isValid() ? next.toMSecsSinceEpoch() : Detail::nextPacificMidnightByRuleMs(nowMs);
}

} // namespace LimitParsing

namespace LimitParsing::Detail {

void Draft::addWindow(const LimitWindow &window)
{
    for (LimitWindow &w : windows) {
        if (w.unit != window.unit || w.span != window.span)
            continue;
        if (!w.limit)
            w.limit = window.limit;
        if (window.remaining)
            w.remaining = w.remaining ? std::min(*w.remaining, *window.remaining) : window.remaining;
        // A told reset beats an estimate; of two told ones the later is the safe one.
        if (window.resetAtMs &&
            (!w.resetAtMs || (w.resetEstimated && !window.resetEstimated) ||
             (w.resetEstimated == window.resetEstimated && *window.resetAtMs > *w.resetAtMs))) {
            w.resetAtMs = window.resetAtMs;
            w.resetEstimated = window.resetEstimated;
        }
        w.exceeded = w.exceeded || window.exceeded;
        w.providerWide = w.providerWide || window.providerWide;
        return;
    }
    windows.append(window);
}

void Draft::addBodyRetry(qint64 ms)
{
    if (ms >= 0 && ms <= MaxHorizonMs)
        bodyRetryMs = std::max(bodyRetryMs.value_or(0), ms);
}

void Draft::setLabel(const QString &text)
{
    if (label.isEmpty())
        label = text;
}

qint64 nextPacificMidnightByRuleMs(qint64 nowMs)
{
    const qint64 localMidnight = nextMultiple(nowMs + pacificOffsetByRuleMs(nowMs), MsPerDay);
    for (const qint64 offset : {-7 * MsPerHour, -8 * MsPerHour}) {
        if (pacificOffsetByRuleMs(localMidnight - offset) == offset)
            return localMidnight - offset;
    }
    return localMidnight + 8 * MsPerHour;
}

} // namespace LimitParsing::Detail
