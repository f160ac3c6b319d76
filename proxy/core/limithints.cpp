#include "limithints.h"

#include <QDate>
#include <QtNumeric>

#include <algorithm>
#include <array>

namespace {

constexpr qint64 NanosPerMs = 1'000'000;
constexpr qint64 NanosPerSecond = 1'000'000'000;
constexpr qint64 MsPerDay = 86'400'000;
constexpr qint64 UnixEpochJulianDay = 2'440'588;

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

// ---- HTTP-date helpers ----

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

LimitHints fromHeaders(const QList<QPair<QByteArray, QByteArray>> &headers, qint64 nowMs)
{
    std::optional<qint64> retryAfterMs;
    std::optional<qint64> retryAfter;
    for (const auto &header : headers) {
        const QByteArrayView name = QByteArrayView(header.first).trimmed();
        if (!retryAfterMs && name.compare(QByteArrayView("retry-after-ms"), Qt::CaseInsensitive) == 0)
            retryAfterMs = parseRetryAfterMs(header.second);
        else if (!retryAfter && name.compare(QByteArrayView("retry-after"), Qt::CaseInsensitive) == 0)
            retryAfter = parseRetryAfter(header.second, nowMs);
    }
    LimitHints hints;
    hints.retryAfterMs = retryAfterMs ? retryAfterMs : retryAfter;
    return hints;
}

} // namespace LimitParsing
