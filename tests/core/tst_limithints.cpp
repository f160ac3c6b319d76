#include "limithints.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTest>

#include <algorithm>

// LimitParsing against the reset/retry formats of PROVIDERS.md §1.2 and the captured answers in
// tests/data/limits/ (see its README for where each comes from). "Now" is injected, so dates are exact.
namespace {

constexpr qint64 Rfc9110ExampleMs = 784'111'777'000; // Sun, 06 Nov 1994 08:49:37 GMT
constexpr qint64 Oct2026NoonMs = 1'790'856'000'000;  // Thu, 01 Oct 2026 12:00:00 GMT (05:00 PDT)
constexpr qint64 Invalid = -1;                       // "expect nullopt" in the data tables

// Instants the captured OpenRouter resets and the calendar rows are measured from.
constexpr qint64 FreeDayNowMs = 1'779'291'000'000;     // Wed, 20 May 2026 15:30 UTC; reset 21 May 00:00 UTC
constexpr qint64 HighBalanceNowMs = 1'786'219'200'000; // Sat, 08 Aug 2026 20:00 UTC; reset 09 Aug 00:00 UTC
constexpr qint64 RpmNowMs = 1'783'519'355'000;         // 25 s before the captured per-minute reset
constexpr qint64 WinterNowMs = 1'768'507'200'000;      // Thu, 15 Jan 2026 20:00 UTC = 12:00 PST
constexpr qint64 SummerNowMs = 1'784'145'600'000;      // Wed, 15 Jul 2026 20:00 UTC = 13:00 PDT
constexpr qint64 MistralNowMs = 1'790'856'030'500;     // Thu, 01 Oct 2026 12:00:30.500 UTC

qint64 orInvalid(const std::optional<qint64> &value)
{
    return value ? *value : Invalid;
}

QByteArray fixture(const QString &name)
{
    QFile file(QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/limits/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", qPrintable(name));
    return file.readAll();
}

// "@name" loads tests/data/limits/name; anything else is the text itself.
QByteArray textOrFixture(const QByteArray &value)
{
    return value.startsWith('@') ? fixture(QString::fromUtf8(value.mid(1))) : value;
}

LimitParsing::Headers headersFrom(const QByteArray &text)
{
    LimitParsing::Headers headers;
    for (const QByteArray &line : text.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            headers.append({line.first(colon).trimmed(), line.sliced(colon + 1).trimmed()});
    }
    return headers;
}

// The windows as one line, sorted by unit and span, resets relative to the parse time:
// "requests/day limit=50 remaining=0 reset=+30600000 est exceeded wide; ...".
QString render(const LimitSignal &signal)
{
    QList<LimitWindow> windows = signal.windows;
    std::sort(windows.begin(), windows.end(), [](const LimitWindow &a, const LimitWindow &b) {
        return std::make_pair(int(a.unit), int(a.span)) < std::make_pair(int(b.unit), int(b.span));
    });
    QStringList parts;
    for (const LimitWindow &w : windows) {
        QString part = LimitWindow::unitName(w.unit) + QLatin1Char('/') + LimitWindow::spanName(w.span);
        if (w.limit)
            part += QLatin1String(" limit=") + QString::number(*w.limit);
        if (w.remaining)
            part += QLatin1String(" remaining=") + QString::number(*w.remaining);
        if (w.resetAtMs)
            part += QLatin1String(" reset=+") + QString::number(*w.resetAtMs - signal.receivedAtMs);
        if (w.resetEstimated)
            part += QLatin1String(" est");
        if (w.exceeded)
            part += QLatin1String(" exceeded");
        if (w.providerWide)
            part += QLatin1String(" wide");
        parts << part;
    }
    return parts.join(QLatin1String("; "));
}

} // namespace

class TestLimitHints : public QObject
{
    Q_OBJECT

private slots:
    void goDuration_data();
    void goDuration();
    void seconds_data();
    void seconds();
    void httpDate_data();
    void httpDate();
    void retryAfter_data();
    void retryAfter();
    void retryAfterMs_data();
    void retryAfterMs();
    void resetValue_data();
    void resetValue();
    void retryAfterHeaders_data();
    void retryAfterHeaders();
    void calendar_data();
    void calendar();
    void pacificRuleMatchesTimeZone();
    void parse_data();
    void parse();
    void exhaustedUntil();
    void names();
    void fuzzFixtures();
};

void TestLimitHints::goDuration_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("Groq RPD reset") << QByteArray("2m59.56s") << qint64(179'560);
    QTest::newRow("Groq TPM reset") << QByteArray("7.66s") << qint64(7'660);
    QTest::newRow("1ms") << QByteArray("1ms") << qint64(1);
    QTest::newRow("12ms") << QByteArray("12ms") << qint64(12);
    QTest::newRow("6m0s") << QByteArray("6m0s") << qint64(360'000);
    QTest::newRow("Groq 429 message") << QByteArray("9m38.016s") << qint64(578'016);
    QTest::newRow("h m s") << QByteArray("1h2m3.5s") << qint64(3'723'500);
    QTest::newRow("24h") << QByteArray("24h") << qint64(86'400'000);
    QTest::newRow("fractional hour") << QByteArray("1.5h") << qint64(5'400'000);
    QTest::newRow("Gemini retryDelay") << QByteArray("57.238747106s") << qint64(57'239);
    QTest::newRow("29s") << QByteArray("29s") << qint64(29'000);
    QTest::newRow("bare zero") << QByteArray("0") << qint64(0);
    QTest::newRow("0s") << QByteArray("0s") << qint64(0);
    QTest::newRow("leading dot") << QByteArray(".5s") << qint64(500);
    QTest::newRow("trailing dot") << QByteArray("5.s") << qint64(5'000);
    QTest::newRow("plus sign") << QByteArray("+3s") << qint64(3'000);
    QTest::newRow("surrounding spaces") << QByteArray(" 7.66s ") << qint64(7'660);
    QTest::newRow("sub-ms rounds up") << QByteArray("1.5ms") << qint64(2);
    QTest::newRow("us rounds up") << QByteArray("500us") << qint64(1);
    QTest::newRow("micro sign") << QByteArray("1500\xC2\xB5s") << qint64(2);
    QTest::newRow("greek mu") << QByteArray("2000\xCE\xBCs") << qint64(2);
    QTest::newRow("ns") << QByteArray("1000000ns") << qint64(1);
    QTest::newRow("1ns") << QByteArray("1ns") << qint64(1);
    QTest::newRow("repeated units add") << QByteArray("1s1s") << qint64(2'000);

    QTest::newRow("empty") << QByteArray("") << Invalid;
    QTest::newRow("spaces only") << QByteArray("   ") << Invalid;
    QTest::newRow("no unit") << QByteArray("1") << Invalid;
    QTest::newRow("float no unit") << QByteArray("1.5") << Invalid;
    QTest::newRow("unit only") << QByteArray("s") << Invalid;
    QTest::newRow("ms only") << QByteArray("ms") << Invalid;
    QTest::newRow("dot unit") << QByteArray(".s") << Invalid;
    QTest::newRow("negative") << QByteArray("-1s") << Invalid;
    QTest::newRow("unknown unit") << QByteArray("1x") << Invalid;
    QTest::newRow("days are not Go") << QByteArray("1d") << Invalid;
    QTest::newRow("upper case") << QByteArray("1S") << Invalid;
    QTest::newRow("inner space") << QByteArray("1 s") << Invalid;
    QTest::newRow("trailing number") << QByteArray("1s2") << Invalid;
    QTest::newRow("two dots") << QByteArray("1.2.3s") << Invalid;
    QTest::newRow("plus only") << QByteArray("+") << Invalid;
    QTest::newRow("words") << QByteArray("soon") << Invalid;
    QTest::newRow("overflow") << QByteArray("2562048h") << Invalid;
    QTest::newRow("huge number") << QByteArray("99999999999999999999s") << Invalid;
}

void TestLimitHints::goDuration()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseGoDuration(text)), expected);
}

void TestLimitHints::seconds_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("Mistral integer") << QByteArray("28") << qint64(28'000);
    QTest::newRow("Cerebras float") << QByteArray("33011.382867") << qint64(33'011'383);
    QTest::newRow("exact float") << QByteArray("11.38") << qint64(11'380);
    QTest::newRow("zero") << QByteArray("0") << qint64(0);
    QTest::newRow("beyond nanoseconds rounds up") << QByteArray("1.0000000001") << qint64(1'001);
    QTest::newRow("negative") << QByteArray("-1") << Invalid;
    QTest::newRow("duration") << QByteArray("1s") << Invalid;
    QTest::newRow("empty") << QByteArray("") << Invalid;
    QTest::newRow("exponent") << QByteArray("1e3") << Invalid;
}

void TestLimitHints::seconds()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseSeconds(text)), expected);
}

void TestLimitHints::httpDate_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<qint64>("expected");
    const qint64 now = Oct2026NoonMs;
    QTest::newRow("IMF-fixdate") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << now << Rfc9110ExampleMs;
    QTest::newRow("RFC 850") << QByteArray("Sunday, 06-Nov-94 08:49:37 GMT") << now << Rfc9110ExampleMs;
    QTest::newRow("asctime") << QByteArray("Sun Nov  6 08:49:37 1994") << now << Rfc9110ExampleMs;
    QTest::newRow("asctime two-digit day")
        << QByteArray("Sun Nov 16 08:49:37 1994") << now << Rfc9110ExampleMs + 10 * 86'400'000;
    QTest::newRow("lower case names, UTC")
        << QByteArray("sun, 06 nov 1994 08:49:37 utc") << now << Rfc9110ExampleMs;
    QTest::newRow("2026") << QByteArray("Thu, 01 Oct 2026 12:01:30 GMT") << now << qint64(1'790'856'090'000);
    QTest::newRow("RFC 850 near future year")
        << QByteArray("Friday, 01-Jan-27 00:00:00 GMT") << now << qint64(1'798'761'600'000);
    QTest::newRow("leap day") << QByteArray("Thu, 29 Feb 2024 00:00:00 GMT") << now
                              << qint64(1'709'164'800'000);

    QTest::newRow("garbage") << QByteArray("tomorrow") << now << Invalid;
    QTest::newRow("no weekday") << QByteArray("06 Nov 1994 08:49:37 GMT") << now << Invalid;
    QTest::newRow("bad month") << QByteArray("Sun, 06 Foo 1994 08:49:37 GMT") << now << Invalid;
    QTest::newRow("bad day") << QByteArray("Sun, 31 Nov 1994 08:49:37 GMT") << now << Invalid;
    QTest::newRow("not a leap year") << QByteArray("Wed, 29 Feb 2023 00:00:00 GMT") << now << Invalid;
    QTest::newRow("bad hour") << QByteArray("Sun, 06 Nov 1994 25:00:00 GMT") << now << Invalid;
    QTest::newRow("other zone") << QByteArray("Sun, 06 Nov 1994 08:49:37 PST") << now << Invalid;
    QTest::newRow("trailing junk") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT x") << now << Invalid;
    QTest::newRow("three-digit year") << QByteArray("Sun, 06 Nov 994 08:49:37 GMT") << now << Invalid;
    QTest::newRow("missing seconds") << QByteArray("Sun, 06 Nov 1994 08:49 GMT") << now << Invalid;
}

void TestLimitHints::httpDate()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, now);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseHttpDate(text, now)), expected);
}

void TestLimitHints::retryAfter_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<qint64>("expected");
    const qint64 now = Rfc9110ExampleMs;
    QTest::newRow("Groq seconds") << QByteArray("2") << now << qint64(2'000);
    QTest::newRow("daily") << QByteArray("86399") << now << qint64(86'399'000);
    QTest::newRow("zero") << QByteArray("0") << now << qint64(0);
    QTest::newRow("spaces") << QByteArray(" 30 ") << now << qint64(30'000);
    QTest::newRow("float seconds") << QByteArray("1.5") << now << qint64(1'500);
    QTest::newRow("tiny float rounds up") << QByteArray("0.0001") << now << qint64(1);
    QTest::newRow("negative clamps") << QByteArray("-5") << now << qint64(0);
    QTest::newRow("date in 30 s") << QByteArray("Sun, 06 Nov 1994 08:50:07 GMT") << now << qint64(30'000);
    QTest::newRow("RFC 850 in 30 s") << QByteArray("Sunday, 06-Nov-94 08:50:07 GMT") << now << qint64(30'000);
    QTest::newRow("asctime in 30 s") << QByteArray("Sun Nov  6 08:50:07 1994") << now << qint64(30'000);
    QTest::newRow("date a day ahead")
        << QByteArray("Mon, 07 Nov 1994 08:49:37 GMT") << now << qint64(86'400'000);
    QTest::newRow("date now") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << now << qint64(0);
    QTest::newRow("date in the past") << QByteArray("Sun, 06 Nov 1994 08:00:00 GMT") << now << qint64(0);
    QTest::newRow("RFC 850 year resolved against now")
        << QByteArray("Sunday, 06-Nov-94 08:49:37 GMT") << Oct2026NoonMs << qint64(0); // 1994, not 2094

    QTest::newRow("empty") << QByteArray("") << now << Invalid;
    QTest::newRow("garbage") << QByteArray("later") << now << Invalid;
    QTest::newRow("duration is not Retry-After") << QByteArray("2s") << now << Invalid;
    QTest::newRow("exponent") << QByteArray("1e3") << now << Invalid;
    QTest::newRow("date without zone tolerated")
        << QByteArray("Sun, 06 Nov 1994 08:50:37") << now << qint64(60'000);
    QTest::newRow("huge") << QByteArray("99999999999999999") << now << Invalid;
}

void TestLimitHints::retryAfter()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, now);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseRetryAfter(value, now)), expected);
}

void TestLimitHints::retryAfterMs_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("integer") << QByteArray("1500") << qint64(1'500);
    QTest::newRow("float rounds up") << QByteArray("20.2") << qint64(21);
    QTest::newRow("negative clamps") << QByteArray("-3") << qint64(0);
    QTest::newRow("garbage") << QByteArray("1500ms") << Invalid;
    QTest::newRow("empty") << QByteArray() << Invalid;
}

void TestLimitHints::retryAfterMs()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseRetryAfterMs(value)), expected);
}

void TestLimitHints::resetValue_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<qint64>("expected");
    const qint64 now = Oct2026NoonMs;
    QTest::newRow("Go duration") << QByteArray("2m59.56s") << now << qint64(179'560);
    QTest::newRow("Go ms") << QByteArray("12ms") << now << qint64(12);
    QTest::newRow("Gemini retryDelay") << QByteArray("29s") << now << qint64(29'000);
    QTest::newRow("float seconds") << QByteArray("33011.382867") << now << qint64(33'011'383);
    QTest::newRow("float seconds short") << QByteArray("11.38") << now << qint64(11'380);
    QTest::newRow("integer seconds") << QByteArray("28") << now << qint64(28'000);
    QTest::newRow("zero") << QByteArray("0") << now << qint64(0);
    QTest::newRow("epoch ms, next minute") << QByteArray("1790856060000") << now << qint64(60'000);
    QTest::newRow("epoch ms, next UTC midnight") << QByteArray("1790899200000") << now << qint64(43'200'000);
    QTest::newRow("epoch ms in the past") << QByteArray("1790855000000") << now << qint64(0);
    QTest::newRow("epoch s") << QByteArray("1790856030") << now << qint64(30'000);
    QTest::newRow("epoch s float") << QByteArray("1790856030.5") << now << qint64(30'500);
    QTest::newRow("epoch s in the past") << QByteArray("1790000000") << now << qint64(0);
    QTest::newRow("1e9 is still seconds") << QByteArray("1000000000") << now << qint64(1'000'000'000'000);
    QTest::newRow("negative clamps") << QByteArray("-3") << now << qint64(0);
    QTest::newRow("spaces") << QByteArray(" 7.66s ") << now << qint64(7'660);

    QTest::newRow("empty") << QByteArray("") << now << Invalid;
    QTest::newRow("garbage") << QByteArray("abc") << now << Invalid;
    QTest::newRow("unknown unit") << QByteArray("5 minutes") << now << Invalid;
    QTest::newRow("too many digits") << QByteArray("1234567890123456789012") << now << Invalid;
}

void TestLimitHints::resetValue()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, now);
    QFETCH(qint64, expected);
    QCOMPARE(orInvalid(LimitParsing::parseResetValue(value, now)), expected);
}

void TestLimitHints::retryAfterHeaders_data()
{
    // Headers as "name: value" lines, to keep the table readable.
    QTest::addColumn<QByteArrayList>("lines");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("none") << QByteArrayList() << Invalid;
    QTest::newRow("unrelated headers")
        << QByteArrayList({"content-type: text/event-stream", "x-ratelimit-reset-requests: 2m59.56s"})
        << Invalid;
    QTest::newRow("retry-after") << QByteArrayList({"retry-after: 2"}) << qint64(2'000);
    QTest::newRow("Retry-After date")
        << QByteArrayList({"Retry-After: Sun, 06 Nov 1994 08:50:07 GMT"}) << qint64(30'000);
    QTest::newRow("retry-after-ms") << QByteArrayList({"retry-after-ms: 1500"}) << qint64(1'500);
    QTest::newRow("ms wins, listed first")
        << QByteArrayList({"retry-after-ms: 1500", "retry-after: 2"}) << qint64(1'500);
    QTest::newRow("ms wins, listed last")
        << QByteArrayList({"Retry-After: 2", "retry-after-ms: 1500"}) << qint64(1'500);
    QTest::newRow("upper case names") << QByteArrayList({"RETRY-AFTER: 7"}) << qint64(7'000);
    QTest::newRow("mixed case ms") << QByteArrayList({"Retry-After: 9", "Retry-After-Ms: 250"})
                                   << qint64(250);
    QTest::newRow("bad ms falls back")
        << QByteArrayList({"retry-after-ms: soon", "retry-after: 4"}) << qint64(4'000);
    QTest::newRow("bad retry-after") << QByteArrayList({"retry-after: whenever"}) << Invalid;
    QTest::newRow("first valid value")
        << QByteArrayList({"retry-after: x", "retry-after: 3", "retry-after: 5"}) << qint64(3'000);
}

// retry-after-ms wins over Retry-After; names are case-insensitive; a value that does not parse is skipped.
void TestLimitHints::retryAfterHeaders()
{
    QFETCH(QByteArrayList, lines);
    QFETCH(qint64, expected);
    QList<QPair<QByteArray, QByteArray>> headers;
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        headers.append({line.first(colon), line.sliced(colon + 1).trimmed()});
    }
    const LimitSignal signal =
        LimitParsing::parse(QStringLiteral("generic-openai"), 429, headers, QByteArray(), Rfc9110ExampleMs);
    QCOMPARE(orInvalid(signal.retryAfterMs), expected);
}

void TestLimitHints::calendar_data()
{
    QTest::addColumn<QString>("boundary");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<qint64>("expected");
    const qint64 noon = Oct2026NoonMs;
    QTest::newRow("minute") << QStringLiteral("minute") << noon + 1 << noon + 60'000;
    QTest::newRow("minute on a boundary") << QStringLiteral("minute") << noon << noon + 60'000;
    QTest::newRow("minute before the epoch") << QStringLiteral("minute") << qint64(-1) << qint64(0);
    QTest::newRow("hour") << QStringLiteral("hour") << noon + 1'234 << noon + 3'600'000;
    QTest::newRow("UTC midnight") << QStringLiteral("utcMidnight") << noon << qint64(1'790'899'200'000);
    QTest::newRow("UTC midnight on midnight")
        << QStringLiteral("utcMidnight") << qint64(1'790'899'200'000) << qint64(1'790'985'600'000);
    QTest::newRow("month") << QStringLiteral("month") << noon << qint64(1'793'491'200'000); // 1 Nov 2026
    QTest::newRow("month on its first instant")
        << QStringLiteral("month") << qint64(1'793'491'200'000) << qint64(1'796'083'200'000); // 1 Dec
    QTest::newRow("month across the year") << QStringLiteral("month") << qint64(1'797'292'800'000)
                                           << qint64(1'798'761'600'000); // 15 Dec -> 1 Jan 27
    QTest::newRow("month in a leap February")
        << QStringLiteral("month") << qint64(1'833'753'600'000) << qint64(1'835'481'600'000); // -> 1 Mar 2028
    // Pacific: PST is UTC-8, PDT UTC-7; 2026 switches on 8 March and 1 November.
    QTest::newRow("Pacific, winter") << QStringLiteral("pacific") << WinterNowMs
                                     << WinterNowMs + 12 * 3'600'000;
    QTest::newRow("Pacific, summer") << QStringLiteral("pacific") << SummerNowMs
                                     << SummerNowMs + 11 * 3'600'000;
    QTest::newRow("Pacific, night before DST starts")
        << QStringLiteral("pacific") << qint64(1'772'946'000'000)
        << qint64(1'772'956'800'000); // -> 08:00 UTC
    QTest::newRow("Pacific, day DST starts") << QStringLiteral("pacific") << qint64(1'772'971'200'000)
                                             << qint64(1'773'039'600'000); // -> 9 Mar 07:00
    QTest::newRow("Pacific, day DST ends") << QStringLiteral("pacific") << qint64(1'793'534'400'000)
                                           << qint64(1'793'606'400'000); // -> 2 Nov 08:00
    QTest::newRow("Pacific, last PDT evening") << QStringLiteral("pacific") << qint64(1'793'512'800'000)
                                               << qint64(1'793'516'400'000); // -> 1 Nov 07:00
}

void TestLimitHints::calendar()
{
    QFETCH(QString, boundary);
    QFETCH(qint64, now);
    QFETCH(qint64, expected);
    qint64 actual = 0;
    if (boundary == QLatin1String("minute"))
        actual = LimitParsing::nextMinuteMs(now);
    else if (boundary == QLatin1String("hour"))
        actual = LimitParsing::nextHourMs(now);
    else if (boundary == QLatin1String("utcMidnight"))
        actual = LimitParsing::nextUtcMidnightMs(now);
    else if (boundary == QLatin1String("month"))
        actual = LimitParsing::nextUtcMonthStartMs(now);
    else
        actual = LimitParsing::nextPacificMidnightMs(now);
    QCOMPARE(actual, expected);
    if (boundary == QLatin1String("pacific"))
        QCOMPARE(LimitParsing::Detail::nextPacificMidnightByRuleMs(now), expected);
}

void TestLimitHints::pacificRuleMatchesTimeZone()
{
    // The fallback rule (no tzdata on the machine) agrees with the system zone, 2024-2030, every ~5 hours.
    for (qint64 now = 1'704'067'200'000; now < 1'893'456'000'000;
         now += 5 * 3'600'000 + 7 * 60'000 + 13'000) {
        const qint64 zone = LimitParsing::nextPacificMidnightMs(now);
        const qint64 rule = LimitParsing::Detail::nextPacificMidnightByRuleMs(now);
        if (zone != rule)
            QFAIL(qPrintable(QStringLiteral("now=%1 zone=%2 rule=%3").arg(now).arg(zone).arg(rule)));
        QVERIFY(zone > now && zone - now <= 25 * 3'600'000);
    }
}

void TestLimitHints::parse_data()
{
    QTest::addColumn<QString>("provider");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("headers"); // "@file" or "name: value" lines
    QTest::addColumn<QByteArray>("body");    // "@file" or the body itself
    QTest::addColumn<qint64>("now");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("windows");       // render() of the expected windows
    QTest::addColumn<qint64>("retryAfter");     // ms, or Invalid
    QTest::addColumn<qint64>("exhaustedUntil"); // ms after now, or Invalid
    QTest::addColumn<bool>("providerWide");
    QTest::addColumn<QString>("reason"); // checked when not empty

    const qint64 noon = Oct2026NoonMs;
    const auto row = [](const char *name, const char *provider, int status, const QByteArray &headers,
                        const QByteArray &body, qint64 now, const char *kind, const char *windows,
                        qint64 retryAfter, qint64 exhaustedUntil, bool providerWide,
                        const char *reason = "") {
        QTest::newRow(name) << QString::fromUtf8(provider) << status << headers << body << now
                            << QString::fromUtf8(kind) << QString::fromUtf8(windows) << retryAfter
                            << exhaustedUntil << providerWide << QString::fromUtf8(reason);
    };
    const QByteArray none;

    // ---- Groq and OpenAI: x-ratelimit-{limit,remaining,reset}-{requests,tokens}, Go durations ----
    row("groq 200: requests per day, tokens per minute", "groq", 200, "@groq-200-headers.txt", none, noon,
        "none",
        "requests/day limit=14400 remaining=14370 reset=+179560; tokens/minute limit=18000 remaining=17997 "
        "reset=+7660",
        Invalid, Invalid, false, "");
    row("openai 200: both per minute", "openai", 200, "@openai-200-headers.txt", none, noon, "none",
        "requests/minute limit=500 remaining=499 reset=+120; tokens/minute limit=30000 remaining=29900 "
        "reset=+360000",
        Invalid, Invalid, false);
    row("groq names under generic-openai: span unknown", "generic-openai", 200, "@groq-200-headers.txt", none,
        noon, "none",
        "requests/unknown limit=14400 remaining=14370 reset=+179560; tokens/unknown limit=18000 "
        "remaining=17997 reset=+7660",
        Invalid, Invalid, false);
    row("groq 200 with the daily requests used up", "groq", 200,
        "x-ratelimit-limit-requests: 1000\nx-ratelimit-remaining-requests: 0\nx-ratelimit-reset-requests: "
        "1h2m3.5s",
        none, noon, "none", "requests/day limit=1000 remaining=0 reset=+3723500", Invalid, 3'723'500, false,
        "requests per day used up");
    row("groq 429 TPM: headers and body", "groq", 429, "@groq-429-tpm-headers.txt", "@groq-429-tpm.json",
        noon, "token_limit",
        "requests/day limit=14400 remaining=14399 reset=+6000; tokens/minute limit=6000 remaining=86 "
        "reset=+17359 exceeded",
        18'000, 18'000, false, "429 tokens per minute (Groq TPM)");
    row("groq 429 TPD body", "groq", 429, none, "@groq-429-tpd.json", noon, "daily_cap",
        "tokens/day limit=100000 remaining=2950 reset=+578016 exceeded", 578'016, 578'016, false,
        "429 tokens per day (Groq TPD)");
    row("groq 429 naming no window", "groq", 429, none, "@groq-429-no-window-named.json", noon, "token_limit",
        "tokens/unknown limit=500000 remaining=0 reset=+107586 exceeded", 107'586, 107'586, false,
        "429 tokens limit");
    row("groq 413 too large for the TPM", "groq", 413, none, "@groq-413-tpm-too-large.json", noon,
        "too_large_for_tier", "tokens/minute limit=6000 reset=+60000 est", Invalid, Invalid, false,
        "413 request too large for this tier: tokens per minute limit 6000 (Groq TPM)");
    row("openai 429 'tokens per min' in ms", "openai", 429, none, "@openai-429-tpm.json", noon, "token_limit",
        "tokens/minute limit=30000 remaining=63 reset=+644 exceeded", 644, 644, false,
        "429 tokens per minute (OpenAI TPM)");
    row("groq 498 flex capacity", "groq", 498, none, "@groq-498-capacity.json", noon, "capacity", "", Invalid,
        Invalid, false, "498 provider at capacity (Groq capacity_exceeded)");

    // ---- Cerebras: -requests-day / -tokens-minute, float seconds, flat bodies ----
    row("cerebras 200", "cerebras", 200, "@cerebras-200-headers.txt", none, noon, "none",
        "requests/day limit=14400 remaining=14397 reset=+33011383; tokens/minute limit=60000 remaining=58120 "
        "reset=+11380",
        Invalid, Invalid, false);
    row("cerebras minute/hour/day variants", "cerebras", 200, "@cerebras-extra-windows-headers.txt", none,
        noon, "none",
        "requests/minute limit=30 remaining=29 reset=+30200; requests/hour limit=900 remaining=880 "
        "reset=+1800500; tokens/hour limit=1000000 remaining=990000 reset=+3600000 est; tokens/day "
        "limit=1000000 remaining=0 reset=+33011383",
        Invalid, 33'011'383, false, "tokens per day used up");
    row("cerebras 429 requests per minute", "cerebras", 429, none, "@cerebras-429-requests-minute.json", noon,
        "rate_limit", "requests/minute reset=+60000 est exceeded", Invalid, 60'000, false,
        "429 requests per minute (Cerebras RPM)");
    row("cerebras 429 tokens per minute", "cerebras", 429, none, "@cerebras-429-tokens-minute.json", noon,
        "token_limit", "tokens/minute reset=+60000 est exceeded", Invalid, 60'000, false,
        "429 tokens per minute (Cerebras TPM)");
    row("cerebras 429 tokens per day, Retry-After 86399", "cerebras", 429,
        "@cerebras-429-tokens-day-headers.txt", "@cerebras-429-tokens-day.json", noon, "daily_cap",
        "tokens/day reset=+86399000 exceeded", 86'399'000, 86'399'000, false,
        "429 tokens per day (Cerebras TPD)");
    row("cerebras 429 with only headers: the empty daily window", "cerebras", 429,
        "x-ratelimit-limit-requests-day: 14400\nx-ratelimit-remaining-requests-day: 0\n"
        "x-ratelimit-reset-requests-day: 33011.382867\nx-ratelimit-remaining-tokens-minute: 58120",
        none, noon, "daily_cap",
        "requests/day limit=14400 remaining=0 reset=+33011383 exceeded; tokens/minute remaining=58120 "
        "reset=+60000 est",
        Invalid, 33'011'383, false, "429 requests per day");
    row("cerebras 429 queue", "cerebras", 429, none, "@cerebras-429-queue.json", noon, "capacity", "",
        Invalid, Invalid, false, "429 provider at capacity (Cerebras queue_exceeded)");

    // ---- OpenRouter: X-RateLimit-* (epoch ms), in headers and in error.metadata.headers ----
    row("openrouter free-models-per-day", "openrouter", 429, none, "@openrouter-429-free-models-per-day.json",
        FreeDayNowMs, "daily_cap", "requests/day limit=50 remaining=0 reset=+30600000 exceeded wide",
        30'600'000, 30'600'000, true, "429 requests per day (OpenRouter free-models-per-day), provider-wide");
    row("openrouter free-models-per-day-high-balance", "openrouter", 429, none,
        "@openrouter-429-free-models-per-day-high-balance.json", HighBalanceNowMs, "daily_cap",
        "requests/day limit=1000 remaining=0 reset=+14400000 exceeded wide", 14'400'000, 14'400'000, true,
        "429 requests per day (OpenRouter free-models-per-day-high-balance), provider-wide");
    row("openrouter daily cap without a reset: next 00:00 UTC", "openrouter", 429, none,
        "@openrouter-429-free-models-per-day-no-reset.json", noon, "daily_cap",
        "requests/day remaining=0 reset=+43200000 est exceeded wide", Invalid, 43'200'000, true);
    row("openrouter daily cap outlasts a short Retry-After", "openrouter", 429, "Retry-After: 60",
        "@openrouter-429-free-models-per-day.json", FreeDayNowMs, "daily_cap",
        "requests/day limit=50 remaining=0 reset=+30600000 exceeded wide", 60'000, 30'600'000, true);
    row("openrouter limit_rpm", "openrouter", 429, none, "@openrouter-429-limit-rpm.json", RpmNowMs,
        "rate_limit", "requests/minute limit=8 remaining=0 reset=+25000 exceeded", 25'000, 25'000, false,
        "429 requests per minute (OpenRouter per-model RPM)");
    row("openrouter free-models-per-min", "openrouter", 429, none, "@openrouter-429-free-models-per-min.json",
        noon, "rate_limit", "requests/minute reset=+60000 est exceeded wide", Invalid, 60'000, true,
        "429 requests per minute (OpenRouter free-models-per-min), provider-wide");
    row("openrouter upstream shared pool", "openrouter", 429, none, "@openrouter-429-upstream.json", noon,
        "capacity", "", Invalid, Invalid, false,
        "429 provider at capacity (OpenRouter upstream_provider_shared_pool)");
    row("openrouter headers only: a UTC-midnight reset is the daily window", "openrouter", 429,
        "@openrouter-429-headers.txt", none, FreeDayNowMs, "daily_cap",
        "requests/day limit=50 remaining=0 reset=+30600000 exceeded", 30'600'000, 30'600'000, false);
    row("openrouter 402 credits", "openrouter", 402, none, "@openrouter-402-credits.json", noon, "credits",
        "", Invalid, Invalid, false, "402 credits exhausted");
    row("openrouter 402 key limit", "openrouter", 402, none, "@openrouter-402-key-limit.json", noon,
        "credits", "", Invalid, Invalid, true,
        "402 credits exhausted (OpenRouter openrouter_key_limit), provider-wide");
    row("openrouter 402 in-flight budget with Retry-After", "openrouter", 402, "Retry-After: 3",
        "@openrouter-402-in-flight-budget.json", noon, "credits", "", 3'000, 3'000, true);
    row("openrouter 503 with Retry-After", "openrouter", 503, "Retry-After: 20",
        R"({"error":{"message":"No instances available","code":503}})", noon, "capacity", "", 20'000, 20'000,
        false);
    row("openrouter mid-stream error event", "openrouter", 429, none,
        "@openrouter-stream-error-free-models-per-day.json", noon, "daily_cap",
        "requests/day remaining=0 reset=+43200000 est exceeded wide", Invalid, 43'200'000, true);

    // ---- Mistral: -req-minute / -tokens-minute / -tokens-month, no reset header; legacy ratelimitbysize
    // ----
    row("mistral 200: calendar resets", "mistral", 200, "@mistral-headers.txt", none, MistralNowMs, "none",
        "requests/minute limit=60 remaining=59 reset=+29500 est; tokens/minute limit=50000 remaining=47196 "
        "reset=+29500 est; tokens/month limit=4000000 remaining=3950246 reset=+2635169500 est",
        Invalid, Invalid, false);
    row("mistral 429 with limit 0: no allowance", "mistral", 429, "@mistral-429-zero-allowance-headers.txt",
        "@mistral-429-rate-limited.json", noon, "zero_allowance",
        "requests/minute limit=0 remaining=0 reset=+60000 est exceeded", Invalid, Invalid, false,
        "429 no allowance for this model: requests per minute limit is 0");
    row("mistral 429 body only", "mistral", 429, none, "@mistral-429-rate-limited.json", noon, "rate_limit",
        "", Invalid, Invalid, false, "429 rate limited");
    row("mistral 429 with the monthly tokens used up", "mistral", 429,
        "x-ratelimit-limit-tokens-month: 4000000\nx-ratelimit-remaining-tokens-month: 0",
        "@mistral-429-rate-limited.json", noon, "daily_cap",
        "tokens/month limit=4000000 remaining=0 reset=+2635200000 est exceeded", Invalid, 2'635'200'000,
        false, "429 tokens per month");
    row("mistral legacy headers", "mistral", 200, "@mistral-legacy-headers.txt", none, noon, "none",
        "tokens/minute limit=500000 remaining=499900 reset=+28000; tokens/month limit=1000000000 "
        "remaining=999000000 reset=+2635200000 est",
        Invalid, Invalid, false);
    row("mistral legacy 429 body", "mistral", 429, none, "@mistral-429-legacy.json", noon, "rate_limit", "",
        Invalid, Invalid, false);

    // ---- Gemini: array (or object) bodies, QuotaFailure quotaId, RetryInfo, midnight Pacific ----
    row("gemini RPM", "google-ai", 429, none, "@gemini-429-rpm.json", noon, "rate_limit",
        "requests/minute limit=5 remaining=0 reset=+45579 exceeded", 45'579, 45'579, false,
        "429 requests per minute (Gemini GenerateRequestsPerMinutePerProjectPerModel-FreeTier)");
    row("gemini RPD in winter: midnight PST", "google-ai", 429, none, "@gemini-429-rpd.json", WinterNowMs,
        "daily_cap", "requests/day limit=20 remaining=0 reset=+43200000 est exceeded", Invalid, 43'200'000,
        false);
    row("gemini RPD in summer: midnight PDT", "google-ai", 429, none, "@gemini-429-rpd.json", SummerNowMs,
        "daily_cap", "requests/day limit=20 remaining=0 reset=+39600000 est exceeded", Invalid, 39'600'000,
        false);
    row("gemini RPD with a short retryDelay stays daily", "google-ai", 429, none,
        "@gemini-429-rpd-short-retry.json", WinterNowMs, "daily_cap",
        "requests/day limit=20 remaining=0 reset=+43200000 est exceeded", 29'500, 43'200'000, false);
    row("gemini pro limit 0", "google-ai", 429, none, "@gemini-429-pro-limit-zero.json", noon,
        "zero_allowance",
        "requests/minute remaining=0 reset=+5238 exceeded; requests/day remaining=0 reset=+68400000 est "
        "exceeded; "
        "tokens/minute remaining=0 reset=+5238 exceeded; tokens/day remaining=0 reset=+68400000 est exceeded",
        5'238, Invalid, false);
    row("gemini quotaValue 0", "google-ai", 429, none, "@gemini-429-quota-value-zero.json", noon,
        "zero_allowance", "requests/day limit=0 remaining=0 reset=+68400000 est exceeded", Invalid, Invalid,
        false,
        "429 no allowance for this model: requests per day limit is 0 "
        "(Gemini GenerateRequestsPerDayPerProjectPerModel-FreeTier)");
    row("gemini TPM, object form", "google-ai", 429, none, "@gemini-429-tpm-object.json", noon, "token_limit",
        "tokens/minute limit=250000 remaining=0 reset=+60000 est exceeded", Invalid, 60'000, false);
    row("gemini precise retryDelay", "google-ai", 429, none, "@gemini-429-precise-retry.json", noon,
        "rate_limit", "", 57'239, 57'239, false);
    row("gemini retryDelay as a Duration object", "google-ai", 429, none,
        "@gemini-429-retry-delay-object.json", noon, "rate_limit", "", 12'500, 12'500, false);
    row("gemini minimal", "google-ai", 429, none, "@gemini-429-minimal.json", noon, "rate_limit", "", Invalid,
        Invalid, false, "429 rate limited");
    row("gemini 503 overloaded", "google-ai", 503, none, "@gemini-503-unavailable.json", noon, "capacity", "",
        Invalid, Invalid, false, "503 provider at capacity");
    row("gemini body under generic-openai still follows Pacific", "generic-openai", 429, none,
        "@gemini-429-rpd.json", SummerNowMs, "daily_cap",
        "requests/day limit=20 remaining=0 reset=+39600000 est exceeded", Invalid, 39'600'000, false);

    // ---- Others ----
    row("nvidia 429", "nvidia-nim", 429, none, "@nvidia-429.json", noon, "rate_limit", "", Invalid, Invalid,
        false);
    row("cloudflare 4006: daily neurons until 00:00 UTC", "generic-openai", 429, none,
        "@cloudflare-429-4006.json", noon, "daily_cap", "", 43'200'000, 43'200'000, true,
        "429 daily quota used up (Cloudflare 4006 daily neurons), provider-wide");
    row("hugging face 402 monthly credits", "generic-openai", 402, none, "@huggingface-402-credits.json",
        noon, "credits", "", Invalid, Invalid, true, "402 credits exhausted, provider-wide");
    row("sambanova: per-minute and per-day requests", "sambanova", 200, "@sambanova-headers.txt", none, noon,
        "none",
        "requests/minute limit=20 remaining=19 reset=+41000; requests/day limit=20 remaining=19 "
        "reset=+43200000",
        Invalid, Invalid, false);
    row("together token limit", "generic-openai", 200, "x-tokenlimit-limit: 60000\nx-tokenlimit-remaining: 0",
        none, noon, "none", "tokens/unknown limit=60000 remaining=0", Invalid, Invalid, false,
        "tokens limit used up");

    // ---- Precedence ----
    row("retry-after-ms beats Retry-After beats the body", "groq", 429,
        "retry-after: 600\nretry-after-ms: 1500", "@groq-429-tpd.json", noon, "daily_cap",
        "tokens/day limit=100000 remaining=2950 reset=+1500 exceeded", 1'500, 1'500, false);
    row("Retry-After beats the body", "groq", 429, "retry-after: 600", "@groq-429-tpd.json", noon,
        "daily_cap", "tokens/day limit=100000 remaining=2950 reset=+600000 exceeded", 600'000, 600'000,
        false);
    row("Retry-After as an HTTP-date", "generic-openai", 429, "Retry-After: Thu, 01 Oct 2026 12:01:30 GMT",
        none, noon, "rate_limit", "", 90'000, 90'000, false);
    row("a window reset later than Retry-After wins", "groq", 429,
        "retry-after: 2\nx-ratelimit-remaining-requests: 0\nx-ratelimit-reset-requests: 2m59.56s", none, noon,
        "daily_cap", "requests/day remaining=0 reset=+179560 exceeded", 2'000, 179'560, false,
        "429 requests per day");
    row("429 with only Retry-After", "generic-openai", 429, "retry-after: 2", none, noon, "rate_limit", "",
        2'000, 2'000, false);
    row("bare 429", "generic-openai", 429, none, none, noon, "unknown", "", Invalid, Invalid, false,
        "429 rate limited");
    row("500 with Retry-After is not a limit", "generic-openai", 500, "Retry-After: 5", none, noon, "none",
        "", 5'000, Invalid, false, "");
    row("the body of a 200 is not read", "groq", 200, none, "@groq-429-tpd.json", noon, "none", "", Invalid,
        Invalid, false, "");
    row("401 is not a limit", "openrouter", 401, none,
        R"({"error":{"message":"No auth credentials found","code":401}})", noon, "none", "", Invalid, Invalid,
        false, "");

    // ---- Garbage: never crash, keep what can be read ----
    const QByteArray freeDay = fixture(QStringLiteral("openrouter-429-free-models-per-day.json"));
    const QByteArray tpd = fixture(QStringLiteral("groq-429-tpd.json"));
    row("truncated OpenRouter JSON", "openrouter", 429, none, freeDay.left(100), noon, "daily_cap",
        "requests/day remaining=0 reset=+43200000 est exceeded wide", Invalid, 43'200'000, true);
    row("truncated Groq JSON", "groq", 429, none, tpd.left(tpd.indexOf("Need more")), noon, "daily_cap",
        "tokens/day limit=100000 remaining=2950 reset=+578016 exceeded", 578'016, 578'016, false);
    row("HTML 429 page", "generic-openai", 429, none,
        "<html><head><title>429 Too Many Requests</title></head><body>nginx</body></html>", noon,
        "rate_limit", "", Invalid, Invalid, false);
    row("wrong JSON types", "openrouter", 429, none,
        R"({"error":{"message":42,"code":[1,2],"type":{},"metadata":"x","details":{"a":1}},)"
        R"("errors":"no"})",
        noon, "unknown", "", Invalid, Invalid, false);
    row("wrong types inside Gemini details", "google-ai", 429, none,
        R"([{"error":{"details":[5,null,)"
        R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":123},)"
        R"({"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":"x"},)"
        R"({"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":7,"quotaValue":"1e400"}]}]}}])",
        noon, "rate_limit", "requests/unknown remaining=0 exceeded", Invalid, Invalid, false);
    row("negative and huge retryDelay", "google-ai", 429, none,
        R"([{"error":{"code":429,"details":[)"
        R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-5s"},)"
        R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":{"seconds":"99999999999999"}}]}}])",
        noon, "unknown", "", Invalid, Invalid, false);
    row("huge, negative and malformed header values", "groq", 200,
        "x-ratelimit-limit-requests: 99999999999999999999999\nx-ratelimit-remaining-requests: -5\n"
        "x-ratelimit-reset-requests: 9999999999999999999s\nx-ratelimit-limit-tokens: abc\n"
        "x-ratelimit-remaining-tokens: 1e5\nx-ratelimit-reset-tokens: -3s",
        none, noon, "none", "requests/day remaining=0 reset=+43200000 est", Invalid, 43'200'000, false,
        "requests per day used up");
    row("Retry-After beyond any quota horizon", "generic-openai", 429, "Retry-After: 99999999999", none, noon,
        "unknown", "", Invalid, Invalid, false);
    row("reset in the year 5138", "openrouter", 200,
        "X-RateLimit-Limit: 20\nX-RateLimit-Reset: 99999999999999", none, noon, "none",
        "requests/unknown limit=20", Invalid, Invalid, false);
    row("empty errors array", "generic-openai", 429, none, R"({"errors":[],"success":false})", noon,
        "unknown", "", Invalid, Invalid, false);
    row("binary body", "generic-openai", 429, none, QByteArray("\x00\xff\xfe{[\"error\x01", 10), noon,
        "unknown", "", Invalid, Invalid, false);
    row("empty array", "google-ai", 429, none, "[]", noon, "unknown", "", Invalid, Invalid, false);
    row("array of numbers", "google-ai", 429, none, "[1,2]", noon, "unknown", "", Invalid, Invalid, false);
    row("JSON null", "generic-openai", 429, none, "null", noon, "unknown", "", Invalid, Invalid, false);
    row("deep nesting", "generic-openai", 429, none, QByteArray(100'000, '['), noon, "unknown", "", Invalid,
        Invalid, false);
    row("oversized body", "generic-openai", 429, none, QByteArray(300'000, '{'), noon, "unknown", "", Invalid,
        Invalid, false);
    row("odd header names", "groq", 200,
        ": 5\nx-ratelimit-: 3\nx-ratelimit-limit-requests-second: 5\nx-ratelimit-limit-input-tokens: 9\n"
        "retry-after-ms:\n" +
            QByteArray(1000, 'x') + ": 1",
        none, noon, "none", "", Invalid, Invalid, false);
    row("status 0", "groq", 0, "@groq-200-headers.txt", "@groq-429-tpd.json", noon, "none",
        "requests/day limit=14400 remaining=14370 reset=+179560; tokens/minute limit=18000 remaining=17997 "
        "reset=+7660",
        Invalid, Invalid, false);
    row("unknown provider type", "who-knows", 200, "@groq-200-headers.txt", none, noon, "none",
        "requests/unknown limit=14400 remaining=14370 reset=+179560; tokens/unknown limit=18000 "
        "remaining=17997 reset=+7660",
        Invalid, Invalid, false);
}

void TestLimitHints::parse()
{
    QFETCH(QString, provider);
    QFETCH(int, status);
    QFETCH(QByteArray, headers);
    QFETCH(QByteArray, body);
    QFETCH(qint64, now);
    QFETCH(QString, kind);
    QFETCH(QString, windows);
    QFETCH(qint64, retryAfter);
    QFETCH(qint64, exhaustedUntil);
    QFETCH(bool, providerWide);
    QFETCH(QString, reason);

    const LimitSignal signal =
        LimitParsing::parse(provider, status, headersFrom(textOrFixture(headers)), textOrFixture(body), now);
    QCOMPARE(render(signal), windows);
    QCOMPARE(QString(LimitSignal::kindName(signal.kind)), kind);
    QCOMPARE(orInvalid(signal.retryAfterMs), retryAfter);
    const std::optional<qint64> until = signal.exhaustedUntilMs(now);
    QCOMPARE(until ? *until - now : Invalid, exhaustedUntil);
    QCOMPARE(signal.providerWide, providerWide);
    QCOMPARE(signal.receivedAtMs, now);
    if (!reason.isEmpty() || kind == QLatin1String("none"))
        QCOMPARE(signal.reason, reason);
}

void TestLimitHints::exhaustedUntil()
{
    const LimitSignal tpd = LimitParsing::parse(QStringLiteral("groq"), 429, {},
                                                fixture(QStringLiteral("groq-429-tpd.json")), Oct2026NoonMs);
    QCOMPARE(tpd.exhaustedUntilMs(Oct2026NoonMs), std::optional<qint64>(Oct2026NoonMs + 578'016));
    // Asked later, the same instant; asked after it, never in the past.
    QCOMPARE(tpd.exhaustedUntilMs(Oct2026NoonMs + 1'000), std::optional<qint64>(Oct2026NoonMs + 578'016));
    QCOMPARE(tpd.exhaustedUntilMs(Oct2026NoonMs + 600'000), std::optional<qint64>(Oct2026NoonMs + 600'000));

    const LimitWindow *window = tpd.window(LimitWindow::Unit::Tokens, LimitWindow::Span::Day);
    QVERIFY(window);
    QCOMPARE(window->limit, std::optional<qint64>(100'000));
    QVERIFY(window->isExhausted());
    QVERIFY(!tpd.window(LimitWindow::Unit::Requests, LimitWindow::Span::Day));
    QVERIFY(tpd.hasQuotaInfo());

    // A window with room left does not hold the entry back, even on a 429 that names another one.
    LimitSignal signal;
    signal.kind = LimitSignal::Kind::RateLimit;
    signal.receivedAtMs = Oct2026NoonMs;
    LimitWindow roomy;
    roomy.remaining = 5;
    roomy.resetAtMs = Oct2026NoonMs + 86'400'000;
    signal.windows << roomy;
    QCOMPARE(signal.exhaustedUntilMs(Oct2026NoonMs), std::nullopt);
    signal.retryAfterMs = 1'000;
    QCOMPARE(signal.exhaustedUntilMs(Oct2026NoonMs), std::optional<qint64>(Oct2026NoonMs + 1'000));
    signal.kind = LimitSignal::Kind::ZeroAllowance; // no reset helps: the tracker disables the entry
    QCOMPARE(signal.exhaustedUntilMs(Oct2026NoonMs), std::nullopt);
}

void TestLimitHints::names()
{
    QCOMPARE(QString(LimitSignal::kindName(LimitSignal::Kind::None)), QStringLiteral("none"));
    QCOMPARE(QString(LimitSignal::kindName(LimitSignal::Kind::TooLargeForTier)),
             QStringLiteral("too_large_for_tier"));
    QCOMPARE(QString(LimitSignal::kindName(LimitSignal::Kind::Unknown)), QStringLiteral("unknown"));
    QCOMPARE(QString(LimitWindow::spanName(LimitWindow::Span::Month)), QStringLiteral("month"));
    QCOMPARE(QString(LimitWindow::unitName(LimitWindow::Unit::Tokens)), QStringLiteral("tokens"));
    using LimitParsing::Detail::Family;
    QCOMPARE(LimitParsing::Detail::familyOf(QStringLiteral(" Groq ")), Family::Groq);
    QCOMPARE(LimitParsing::Detail::familyOf(QStringLiteral("google-ai")), Family::Gemini);
    QCOMPARE(LimitParsing::Detail::familyOf(QStringLiteral("nvidia-nim")), Family::Nvidia);
    QCOMPARE(LimitParsing::Detail::familyOf(QString()), Family::Generic);
}

void TestLimitHints::fuzzFixtures()
{
    // Every fixture cut at many lengths and with bytes flipped: parse() must not crash and must keep its
    // invariants (counts >= 0, resets and retries within the horizon, never "exhausted until" the past).
    const QDir dir(QStringLiteral(CHAIN_SOURCE_DIR "/tests/data/limits"));
    const QStringList files = dir.entryList({QStringLiteral("*.json"), QStringLiteral("*.txt")}, QDir::Files);
    QVERIFY(files.size() >= 30);
    QRandomGenerator random(4292026);
    const QStringList providers = {QStringLiteral("groq"),      QStringLiteral("openrouter"),
                                   QStringLiteral("google-ai"), QStringLiteral("mistral"),
                                   QStringLiteral("cerebras"),  QStringLiteral("x")};
    const qint64 now = Oct2026NoonMs;
    int parsed = 0;
    const auto check = [&](const QByteArray &text, bool asHeaders) {
        for (const int status : {200, 402, 413, 429, 503}) {
            const QString &provider = providers.at(int(random.bounded(providers.size())));
            const LimitSignal s = asHeaders
                                      ? LimitParsing::parse(provider, status, headersFrom(text), {}, now)
                                      : LimitParsing::parse(provider, status, {}, text, now);
            ++parsed;
            for (const LimitWindow &w : s.windows) {
                QVERIFY(!w.remaining || *w.remaining >= 0);
                QVERIFY(!w.limit || *w.limit >= 0);
                QVERIFY(!w.resetAtMs ||
                        (*w.resetAtMs >= now && *w.resetAtMs <= now + LimitParsing::Detail::MaxHorizonMs));
            }
            QVERIFY(!s.retryAfterMs ||
                    (*s.retryAfterMs >= 0 && *s.retryAfterMs <= LimitParsing::Detail::MaxHorizonMs));
            const std::optional<qint64> until = s.exhaustedUntilMs(now);
            QVERIFY(!until || *until >= now);
            QVERIFY(int(s.kind) >= 0 && s.kind <= LimitSignal::Kind::Unknown);
        }
    };
    for (const QString &name : files) {
        const QByteArray original = fixture(name);
        const bool asHeaders = name.endsWith(QLatin1String(".txt"));
        const qsizetype step = std::max<qsizetype>(1, original.size() / 40);
        for (qsizetype cut = 0; cut <= original.size(); cut += step)
            check(original.left(cut), asHeaders);
        for (int round = 0; round < 40; ++round) {
            QByteArray mutated = original;
            for (int flips = 1 + int(random.bounded(4)); flips > 0 && !mutated.isEmpty(); --flips)
                mutated[int(random.bounded(int(mutated.size())))] = char(random.bounded(256));
            check(mutated, asHeaders);
        }
    }
    QVERIFY(parsed > 5'000);
}

QTEST_GUILESS_MAIN(TestLimitHints)
#include "tst_limithints.moc"
