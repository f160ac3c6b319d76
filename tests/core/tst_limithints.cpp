#include "limithints.h"

#include <QTest>

// LimitParsing against the reset/retry formats of PROVIDERS.md §1.2. "Now" is injected, so dates are exact.
namespace {

constexpr qint64 Rfc9110ExampleMs = 784'111'777'000; // Sun, 06 Nov 1994 08:49:37 GMT
constexpr qint64 Oct2026NoonMs = 1'790'856'000'000;  // Thu, 01 Oct 2026 12:00:00 GMT
constexpr qint64 Invalid = -1;                       // "expect nullopt" in the data tables

qint64 orInvalid(const std::optional<qint64> &value)
{
    return value ? *value : Invalid;
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
    void fromHeaders_data();
    void fromHeaders();
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

void TestLimitHints::fromHeaders_data()
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

void TestLimitHints::fromHeaders()
{
    QFETCH(QByteArrayList, lines);
    QFETCH(qint64, expected);
    QList<QPair<QByteArray, QByteArray>> headers;
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        headers.append({line.first(colon), line.sliced(colon + 1).trimmed()});
    }
    QCOMPARE(orInvalid(LimitParsing::fromHeaders(headers, Rfc9110ExampleMs).retryAfterMs), expected);
}

QTEST_GUILESS_MAIN(TestLimitHints)
#include "tst_limithints.moc"
