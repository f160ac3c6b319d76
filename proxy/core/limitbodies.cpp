// Body side of LimitParsing: what error bodies say about limits (PROVIDERS.md §2). Structured fields first
// (Gemini details, OpenRouter metadata, Cloudflare errors[], error codes), then the message text, which is
// also all we read when the JSON is cut short or is not JSON.
#include "limithints.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace {

using LimitParsing::Detail::DayClock;
using LimitParsing::Detail::Draft;
using LimitParsing::Detail::Family;
using LimitParsing::Detail::familyLabel;
using Kind = LimitSignal::Kind;
using Span = LimitWindow::Span;
using Unit = LimitWindow::Unit;

constexpr qsizetype MaxJsonBytes =
    256 * 1024; // a limit answer is small; a bigger body is only scanned as text
constexpr qsizetype MaxTextChars = 16 * 1024;

QString textOf(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble()) {
        const double d = v.toDouble();
        return std::abs(d) < 9e15 && d == std::floor(d) ? QString::number(qint64(d)) : QString::number(d);
    }
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    return QString();
}

std::optional<qint64> countOf(const QJsonValue &v)
{
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (!std::isfinite(d) || std::abs(d) > 9e15)
            return std::nullopt;
        return qint64(d);
    }
    if (v.isString())
        return LimitParsing::Detail::parseCount(v.toString().toLatin1());
    return std::nullopt;
}

bool contains(QStringView text, const char *needle)
{
    return text.contains(QLatin1String(needle), Qt::CaseInsensitive);
}

void addExceeded(Draft &d, Unit unit, Span span, bool providerWide = false)
{
    LimitWindow w;
    w.unit = unit;
    w.span = span;
    w.exceeded = true;
    w.providerWide = providerWide;
    d.addWindow(w);
}

// ---- OpenRouter ----

// Classifies an OpenRouter limit by its limit_source, else by the message; true if it named one.
bool readOpenRouterKind(const QString &limitSource, QStringView text, Draft &d)
{
    static const QRegularExpression name(QStringLiteral("(free-models-per-(?:day|min)[a-z-]*)"));
    const auto daily = [&d](const QString &label) {
        d.bareSpan = Span::Day;
        d.bareProviderWide = true;
        d.dayClock = DayClock::Utc;
        LimitWindow w;
        w.span = Span::Day;
        w.exceeded = true;
        w.providerWide = true;
        w.remaining = 0;
        d.addWindow(w);
        d.setLabel(QLatin1String("OpenRouter ") + label);
    };
    const QRegularExpressionMatch named = name.match(text);
    const QString label = named.hasMatch() ? named.captured(1) : limitSource;
    if (limitSource == QLatin1String("openrouter_free_tier_daily") || contains(text, "free-models-per-day")) {
        daily(label);
    } else if (limitSource == QLatin1String("openrouter_shared_capacity") ||
               limitSource == QLatin1String("upstream_provider_shared_pool") ||
               contains(text, "temporarily rate-limited upstream")) {
        d.bodyKind = Kind::Capacity;
        d.setLabel(QLatin1String("OpenRouter ") +
                   (limitSource.isEmpty() ? QStringLiteral("upstream_provider_shared_pool") : limitSource));
    } else if (limitSource == QLatin1String("openrouter_credits") ||
               limitSource == QLatin1String("openrouter_key_limit") ||
               limitSource == QLatin1String("openrouter_in_flight_budget")) {
        d.bodyKind = Kind::Credits;
        d.providerWide = true; // the account's balance or the key's budget, whatever the model
        d.setLabel(QLatin1String("OpenRouter ") + limitSource);
    } else if (contains(text, "free-models-per-min")) {
        // Account-wide like the daily cap: every :free model shares it.
        d.bareSpan = Span::Minute;
        d.bareProviderWide = true;
        addExceeded(d, Unit::Requests, Span::Minute, true);
        d.setLabel(QLatin1String("OpenRouter ") + label);
    } else if (contains(text, "limit_rpm/")) {
        d.bareSpan = Span::Minute;
        addExceeded(d, Unit::Requests, Span::Minute);
        d.setLabel(QStringLiteral("OpenRouter per-model RPM"));
    } else {
        return false;
    }
    d.recognised = true;
    return true;
}

void readOpenRouterMetadata(const QJsonObject &metadata, const QString &message, Draft &d)
{
    const QString raw = textOf(metadata.value(QLatin1String("raw")));
    readOpenRouterKind(metadata.value(QLatin1String("limit_source")).toString(),
                       QString(message + QLatin1Char('\n') + raw), d);
    const QJsonObject copied = metadata.value(QLatin1String("headers")).toObject();
    LimitParsing::Headers headers;
    for (auto it = copied.begin(); it != copied.end(); ++it)
        headers.append({it.key().toLatin1(), textOf(it.value()).toLatin1()});
    LimitParsing::Detail::readHeaders(headers, d, true);
}

// ---- Gemini (google.rpc.Status details) ----

std::optional<qint64> protoDuration(const QJsonValue &v) // "57.238747106s" or {"seconds":57,"nanos":…}
{
    if (v.isString())
        return LimitParsing::parseGoDuration(v.toString().toUtf8());
    if (!v.isObject())
        return std::nullopt;
    const std::optional<qint64> seconds = countOf(v.toObject().value(QLatin1String("seconds")));
    const std::optional<qint64> nanos = countOf(v.toObject().value(QLatin1String("nanos")));
    if (!seconds || *seconds < 0 || *seconds > LimitParsing::Detail::MaxHorizonMs / 1000)
        return std::nullopt;
    const qint64 n = std::clamp<qint64>(nanos.value_or(0), 0, 999'999'999);
    return *seconds * 1000 + (n + 999'999) / 1'000'000;
}

// A quota id such as GenerateRequestsPerDayPerProjectPerModel-FreeTier, or a metric name, as a window.
void readQuota(const QString &quotaId, const QString &metric, const QJsonValue &value, Draft &d)
{
    QString id = quotaId + QLatin1Char(' ') + metric;
    id.remove(QLatin1Char('_'));
    LimitWindow w;
    w.unit = contains(id, "token") ? Unit::Tokens : Unit::Requests;
    w.span = contains(id, "perminute") ? Span::Minute
             : contains(id, "perhour") ? Span::Hour
             : contains(id, "perday")  ? Span::Day
                                       : Span::Unknown;
    w.exceeded = true;
    w.remaining = 0;
    if (const std::optional<qint64> limit = countOf(value); limit && *limit >= 0) {
        w.limit = limit;
        d.zeroAllowance = d.zeroAllowance || *limit == 0;
    }
    d.addWindow(w);
    d.dayClock = DayClock::Pacific;
    d.recognised = true;
    if (!quotaId.isEmpty())
        d.setLabel(QLatin1String("Gemini ") + quotaId);
}

void readGoogleDetails(const QJsonArray &details, Draft &d)
{
    for (const QJsonValue &item : details) {
        const QJsonObject detail = item.toObject();
        const QString type = detail.value(QLatin1String("@type")).toString();
        if (type.endsWith(QLatin1String("google.rpc.RetryInfo"))) {
            if (const std::optional<qint64> delay = protoDuration(detail.value(QLatin1String("retryDelay"))))
                d.addBodyRetry(*delay);
        } else if (type.endsWith(QLatin1String("google.rpc.QuotaFailure"))) {
            for (const QJsonValue &v : detail.value(QLatin1String("violations")).toArray()) {
                const QJsonObject violation = v.toObject();
                readQuota(violation.value(QLatin1String("quotaId")).toString(),
                          violation.value(QLatin1String("quotaMetric")).toString(),
                          violation.value(QLatin1String("quotaValue")), d);
            }
        } else if (type.endsWith(QLatin1String("google.rpc.ErrorInfo"))) {
            const QJsonObject metadata = detail.value(QLatin1String("metadata")).toObject();
            const QString limit = metadata.value(QLatin1String("quota_limit")).toString();
            if (!limit.isEmpty())
                readQuota(limit, metadata.value(QLatin1String("quota_metric")).toString(), QJsonValue(), d);
        }
    }
}

// ---- codes and message text ----

// Error codes and types that say what kind of limit this is; returns the unit they name, if any.
std::optional<Unit> readCode(const QString &code, const QString &type, Draft &d)
{
    const auto is = [&code, &type](const char *name) {
        return code == QLatin1String(name) || type == QLatin1String(name);
    };
    if (is("queue_exceeded") || is("capacity_exceeded")) {
        d.bodyKind = Kind::Capacity;
        d.setLabel(familyLabel(d.family) + QLatin1Char(' ') + (code.isEmpty() ? type : code));
        return std::nullopt;
    }
    if (is("insufficient_quota")) {
        d.bodyKind = Kind::Credits;
        return std::nullopt;
    }
    if (is("request_quota_exceeded") || is("token_quota_exceeded") || is("rate_limit_exceeded") ||
        is("rate_limited") || is("too_many_requests_error") || is("too_many_tokens_error") ||
        code == QLatin1String("1300") || code == QLatin1String("RESOURCE_EXHAUSTED"))
        d.recognised = true;
    if (code == QLatin1String("token_quota_exceeded") || type == QLatin1String("tokens") ||
        type == QLatin1String("too_many_tokens_error"))
        return Unit::Tokens;
    if (code == QLatin1String("request_quota_exceeded") || type == QLatin1String("requests"))
        return Unit::Requests;
    return std::nullopt;
}

std::optional<Span> spanOf(QStringView word)
{
    if (word.startsWith(QLatin1String("min"), Qt::CaseInsensitive) || word == QLatin1String("M"))
        return Span::Minute;
    if (word.startsWith(QLatin1String("hour"), Qt::CaseInsensitive) || word == QLatin1String("H"))
        return Span::Hour;
    if (word.startsWith(QLatin1String("day"), Qt::CaseInsensitive) || word == QLatin1String("D"))
        return Span::Day;
    if (word.startsWith(QLatin1String("month"), Qt::CaseInsensitive))
        return Span::Month;
    return std::nullopt;
}

// "TPD", "RPM": the names Groq and OpenAI give their windows.
QString abbreviationOf(Unit unit, Span span)
{
    const char spanLetter = span == Span::Minute ? 'M'
                            : span == Span::Hour ? 'H'
                            : span == Span::Day  ? 'D'
                                                 : 'X';
    const char letters[] = {unit == Unit::Tokens ? 'T' : 'R', 'P', spanLetter, '\0'};
    return span == Span::Month ? QString(LimitWindow::unitName(unit) + QLatin1String(" per month"))
                               : QString::fromLatin1(letters);
}

// "Please try again in 9m38.016s", "Please retry in 45.578569677s.", "try again in 644ms", "retry after 30
// seconds".
std::optional<qint64> retryIn(QStringView text)
{
    static const QRegularExpression go(QStringLiteral("(?:try again|retry)\\s+(?:in|after)\\s+~?"
                                                      "([0-9][0-9.hmsun\\x{b5}\\x{3bc}]*)(?![a-z])"),
                                       QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression words(
        QStringLiteral("(?:try again|retry)\\s+(?:in|after)\\s+~?"
                       "([0-9]+(?:\\.[0-9]+)?)\\s*(second|sec|minute|min|hour)s?\\b"),
        QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = go.match(text);
    if (m.hasMatch()) {
        QString value = m.captured(1);
        while (value.endsWith(QLatin1Char('.')))
            value.chop(1);
        if (const std::optional<qint64> ms = LimitParsing::parseGoDuration(value.toUtf8()))
            return ms;
    }
    const QRegularExpressionMatch w = words.match(text);
    if (!w.hasMatch())
        return std::nullopt;
    const std::optional<qint64> seconds = LimitParsing::parseSeconds(w.captured(1).toLatin1());
    if (!seconds)
        return std::nullopt;
    const QStringView unit = w.capturedView(2);
    const qint64 scale = unit.startsWith(QLatin1Char('h'), Qt::CaseInsensitive)       ? 3600
                         : unit.startsWith(QLatin1String("min"), Qt::CaseInsensitive) ? 60
                                                                                      : 1;
    return *seconds <= LimitParsing::Detail::MaxHorizonMs ? std::optional<qint64>(*seconds * scale)
                                                          : std::nullopt;
}

// Message heuristics, for every provider: which window ("tokens per day (TPD)", "Requests per minute limit
// exceeded", "limited to 8 requests per minute"), Groq/OpenAI "Limit N, Used U", retry hints, Gemini "limit:
// 0", capacity and credit wording.
void readText(QStringView text, std::optional<Unit> unitHint, Draft &d)
{
    static const QRegularExpression phrase(
        QStringLiteral("\\b(requests?|tokens?)\\s+per\\s+(minute|min|hour|day|month)\\b"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression abbreviation(QStringLiteral("\\b([RT])P([MHD])\\b"));
    static const QRegularExpression limitUsed(
        QStringLiteral("\\bLimit\\s+~?(\\d+)(?:,\\s*Used\\s+~?(\\d+))?"));
    static const QRegularExpression zero(QStringLiteral("\\blimit:\\s*0(?![\\d.])"),
                                         QRegularExpression::CaseInsensitiveOption);
    if (text.isEmpty())
        return;
    readOpenRouterKind(QString(), text, d);

    if (contains(text, "request too large") || contains(text, "too large for model"))
        d.tooLarge = true;
    std::optional<Unit> unit;
    std::optional<Span> span;
    if (const QRegularExpressionMatch m = phrase.match(text); m.hasMatch()) {
        unit = m.capturedView(1).startsWith(QLatin1Char('t'), Qt::CaseInsensitive) ? Unit::Tokens
                                                                                   : Unit::Requests;
        span = spanOf(m.capturedView(2));
    } else if (const QRegularExpressionMatch a = abbreviation.match(text); a.hasMatch()) {
        unit = a.capturedView(1) == QLatin1String("T") ? Unit::Tokens : Unit::Requests;
        span = spanOf(a.capturedView(2));
    } else if (unitHint && d.status == 429) {
        unit = unitHint; // Groq's "on : Limit 500000, Used 500370" names no window, only its type
        span = Span::Unknown;
    }
    if (unit && span && (d.status == 429 || d.status == 413)) { // a 5xx naming a window is not about ours
        LimitWindow w;
        w.unit = *unit;
        w.span = *span;
        w.exceeded = !d.tooLarge; // 413: the window is fine, this request just never fits in it
        if (const QRegularExpressionMatch m = limitUsed.match(text); m.hasMatch()) {
            w.limit = LimitParsing::Detail::parseCount(m.captured(1).toLatin1());
            const std::optional<qint64> used = LimitParsing::Detail::parseCount(m.captured(2).toLatin1());
            if (w.limit && used)
                w.remaining = std::max<qint64>(0, *w.limit - *used);
        }
        d.addWindow(w);
        d.recognised = true;
        if (*span != Span::Unknown && d.family != Family::OpenRouter) {
            const QLatin1String family = familyLabel(d.family);
            const QString abbrev = abbreviationOf(*unit, *span);
            d.setLabel(family.isEmpty() ? abbrev : QString(family + QLatin1Char(' ') + abbrev));
        }
    }

    if (const std::optional<qint64> ms = retryIn(text))
        d.addBodyRetry(*ms);
    if (zero.match(text).hasMatch()) {
        d.zeroAllowance = true;
        d.recognised = true;
    }
    if (contains(text, "overloaded") || contains(text, "high traffic") || contains(text, "queue_exceeded") ||
        contains(text, "capacity_exceeded") || contains(text, "no available model provider") ||
        contains(text, "over capacity")) {
        if (!d.bodyKind)
            d.bodyKind = Kind::Capacity;
    } else if (contains(text, "requires more credits") || contains(text, "can only afford") ||
               contains(text, "insufficient credits") || contains(text, "insufficient_quota") ||
               contains(text, "monthly included credits")) {
        if (!d.bodyKind)
            d.bodyKind = Kind::Credits;
        if (contains(text, "monthly included credits")) // Hugging Face: the account's monthly credit
            d.providerWide = true;
    }
    if (contains(text, "rate limit") || contains(text, "too many requests") || contains(text, "quota") ||
        contains(text, "resource has been exhausted") || contains(text, "rate_limit"))
        d.recognised = true;
}

void readCloudflareErrors(const QJsonArray &errors, Draft &d)
{
    for (const QJsonValue &v : errors) {
        if (countOf(v.toObject().value(QLatin1String("code"))) != 4006)
            continue;
        // The daily free neurons are spent for the whole account until 00:00 UTC.
        d.bodyKind = Kind::DailyCap;
        d.providerWide = true;
        d.dayClock = DayClock::Utc;
        d.addBodyRetry(LimitParsing::nextUtcMidnightMs(d.nowMs) - d.nowMs);
        d.setLabel(QStringLiteral("Cloudflare 4006 daily neurons"));
        d.recognised = true;
    }
}

void readObject(const QJsonObject &root, Draft &d)
{
    const QJsonValue errorValue = root.value(QLatin1String("error"));
    const QJsonObject error = errorValue.isObject() ? errorValue.toObject() : root; // Cerebras, Mistral: flat
    QString message =
        errorValue.isString() ? errorValue.toString() : textOf(error.value(QLatin1String("message")));
    if (message.isEmpty()) // NVIDIA problem+json
        message = textOf(error.value(QLatin1String("detail"))) + QLatin1Char(' ') +
                  textOf(error.value(QLatin1String("title")));
    const QString code = textOf(error.value(QLatin1String("code")));
    const QString type = textOf(error.value(QLatin1String("type")));
    const QString status = textOf(error.value(QLatin1String("status")));

    const QJsonValue errors = root.value(QLatin1String("errors"));
    if (errors.isArray()) {
        readCloudflareErrors(errors.toArray(), d);
        if (message.isEmpty())
            message = textOf(errors.toArray().at(0).toObject().value(QLatin1String("message")));
    }
    if (error.value(QLatin1String("details")).isArray())
        readGoogleDetails(error.value(QLatin1String("details")).toArray(), d);
    if (status == QLatin1String("RESOURCE_EXHAUSTED"))
        d.recognised = true;
    else if (status == QLatin1String("UNAVAILABLE") && !d.bodyKind)
        d.bodyKind = Kind::Capacity;
    QString raw;
    if (const QJsonValue metadata = error.value(QLatin1String("metadata")); metadata.isObject()) {
        readOpenRouterMetadata(metadata.toObject(), message, d);
        raw = textOf(metadata.toObject().value(QLatin1String("raw")));
    }
    const std::optional<Unit> unitHint = readCode(code, type, d);
    readText(raw.isEmpty() ? message : QString(message + QLatin1Char('\n') + raw), unitHint, d);
    if (unitHint && d.status == 429 && !d.tooLarge &&
        std::none_of(d.windows.begin(), d.windows.end(), [](const LimitWindow &w) { return w.exceeded; }))
        addExceeded(d, *unitHint, Span::Unknown); // a quota code with no window named in the message
}

} // namespace

namespace LimitParsing::Detail {

void readBody(const QByteArray &body, Draft &d)
{
    const QByteArrayView trimmed = QByteArrayView(body).trimmed();
    if (trimmed.isEmpty())
        return;
    if (trimmed.size() <= MaxJsonBytes && (trimmed.front() == '{' || trimmed.front() == '[')) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(trimmed.toByteArray(), &error);
        if (error.error == QJsonParseError::NoError) {
            if (doc.isObject())
                return readObject(doc.object(), d);
            // Gemini's compat endpoint wraps the error in an array.
            for (const QJsonValue &v : doc.array()) {
                if (v.isObject())
                    return readObject(v.toObject(), d);
            }
            return;
        }
    }
    // Cut off, not JSON, or an HTML error page: the message text is still worth reading.
    readText(QString::fromUtf8(trimmed.first(std::min(trimmed.size(), MaxTextChars))), std::nullopt, d);
}

} // namespace LimitParsing::Detail
