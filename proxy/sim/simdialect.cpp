#include "simdialect.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace SimDialect {

namespace {

constexpr qint64 kDayMs = 24 * 3600 * 1000;

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// Gemini's OpenAI-compatible endpoint wraps its errors in an array.
QByteArray compactArray(const QJsonObject &o)
{
    return QJsonDocument(QJsonArray{o}).toJson(QJsonDocument::Compact);
}

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

QByteArray number(qint64 n)
{
    return QByteArray::number(n);
}

qint64 ceilSeconds(qint64 ms)
{
    return (ms + 999) / 1000;
}

// "12.5", "45", "0.25": seconds without trailing zeros.
QString plainSeconds(qint64 ms)
{
    QString text = QString::number(double(ms) / 1000.0, 'f', 3);
    while (text.endsWith(QLatin1Char('0')))
        text.chop(1);
    if (text.endsWith(QLatin1Char('.')))
        text.chop(1);
    return text;
}

QString geminiStatus(int status)
{
    switch (status) {
    case 400:
        return latin("INVALID_ARGUMENT");
    case 401:
        return latin("UNAUTHENTICATED");
    case 403:
        return latin("PERMISSION_DENIED");
    case 404:
        return latin("NOT_FOUND");
    case 429:
        return latin("RESOURCE_EXHAUSTED");
    case 503:
        return latin("UNAVAILABLE");
    case 504:
        return latin("DEADLINE_EXCEEDED");
    default:
        return status >= 500 ? latin("INTERNAL") : latin("FAILED_PRECONDITION");
    }
}

QString cerebrasType(int status)
{
    switch (status) {
    case 401:
        return latin("invalid_request_error");
    case 402:
        return latin("payment_required");
    case 403:
        return latin("permission_denied_error");
    case 404:
        return latin("not_found_error");
    case 422:
        return latin("unprocessable_entity_error");
    case 429:
        return latin("too_many_requests_error");
    default:
        return status >= 500 ? latin("internal_server_error") : latin("invalid_request_error");
    }
}

Reply groqOrOpenAiLimited(Dialect dialect, const RateLimitFacts &f)
{
    const bool groq = dialect == Dialect::Groq;
    const qint64 hintMs = f.resetInMs.value_or(f.dailyCap ? 578016 : (groq ? 7660 : 20000));
    const QString retry = QString::fromLatin1(goDuration(hintMs));
    QString message;
    QString type = latin("requests");
    if (groq && f.dailyCap) {
        const int limit = f.limit > 0 ? f.limit : 500000;
        type = latin("tokens");
        message = QStringLiteral(
                      "Rate limit reached for model `%1` in organization `org_sim` service tier `on_demand` "
                      "on tokens per day (TPD): Limit %2, Used %3, Requested 350. Please try again in "
                      "%4. Need more tokens? Upgrade to Dev Tier today at "
                      "https://console.groq.com/settings/billing")
                      .arg(f.model)
                      .arg(limit)
                      .arg(qMax(0, limit - 188))
                      .arg(retry);
    } else if (groq) {
        const int limit = f.limit > 0 ? f.limit : 30;
        message = QStringLiteral(
                      "Rate limit reached for model `%1` in organization `org_sim` service tier `on_demand` "
                      "on requests per minute (RPM): Limit %2, Used %2, Requested 1. Please try again in "
                      "%3. Need more requests? Upgrade to Dev Tier today at "
                      "https://console.groq.com/settings/billing")
                      .arg(f.model)
                      .arg(limit)
                      .arg(retry);
    } else {
        const int limit = f.limit > 0 ? f.limit : (f.dailyCap ? 200 : 3);
        const QString window = f.dailyCap ? latin("requests per day (RPD)") : latin("requests per min (RPM)");
        message =
            QStringLiteral("Rate limit reached for %1 in organization org-sim on %2: Limit %3, Used %3, "
                           "Requested 1. Please try again in %4. Visit "
                           "https://platform.openai.com/account/rate-limits to learn more.")
                .arg(f.model, window)
                .arg(limit)
                .arg(retry);
    }
    QJsonObject error{
        {latin("message"), message}, {latin("type"), type}, {latin("code"), latin("rate_limit_exceeded")}};
    if (!groq)
        error.insert(latin("param"), QJsonValue::Null);
    Reply r;
    r.status = 429;
    r.body = compact(QJsonObject{{latin("error"), error}});
    if (f.retryAfterSeconds)
        r.headers << qMakePair(QByteArrayLiteral("retry-after"), number(*f.retryAfterSeconds));
    return r;
}

Reply openRouterLimited(const RateLimitFacts &f)
{
    const int limit = f.limit > 0 ? f.limit : (f.dailyCap ? 50 : 20);
    qint64 resetAt;
    if (f.dailyCap)
        resetAt = nextUtcMidnightMs(f.nowMs);
    else if (f.resetInMs)
        resetAt = f.nowMs + *f.resetInMs;
    else
        resetAt = (f.nowMs / 60000 + 1) * 60000; // per-minute limits reset on the next minute boundary
    const QString message = f.dailyCap ? latin("Rate limit exceeded: free-models-per-day. Add 10 credits to "
                                               "unlock 1000 free model requests per day")
                                       : latin("Rate limit exceeded: free-models-per-min. ");
    const QJsonObject headers{{latin("X-RateLimit-Limit"), QString::number(limit)},
                              {latin("X-RateLimit-Remaining"), latin("0")},
                              {latin("X-RateLimit-Reset"), QString::number(resetAt)}};
    const QJsonObject error{{latin("message"), message},
                            {latin("code"), 429},
                            {latin("metadata"), QJsonObject{{latin("headers"), headers},
                                                            {latin("provider_name"), QJsonValue::Null}}}};
    QJsonObject body{{latin("error"), error}};
    if (f.dailyCap)
        body.insert(latin("user_id"), latin("user_sim"));
    Reply r;
    r.status = 429;
    r.body = compact(body);
    r.headers << qMakePair(QByteArrayLiteral("X-RateLimit-Limit"), number(limit))
              << qMakePair(QByteArrayLiteral("X-RateLimit-Remaining"), QByteArrayLiteral("0"))
              << qMakePair(QByteArrayLiteral("X-RateLimit-Reset"), number(resetAt));
    if (f.retryAfterSeconds)
        r.headers << qMakePair(QByteArrayLiteral("Retry-After"), number(*f.retryAfterSeconds));
    return r;
}

Reply cerebrasLimited(const RateLimitFacts &f)
{
    QJsonObject body;
    if (f.dailyCap) {
        body = QJsonObject{
            {latin("message"), latin("Tokens per day limit exceeded - too many tokens processed.")},
            {latin("type"), latin("too_many_tokens_error")},
            {latin("param"), latin("quota")},
            {latin("code"), latin("token_quota_exceeded")}};
    } else {
        body = QJsonObject{
            {latin("message"), latin("Requests per minute limit exceeded - too many requests sent.")},
            {latin("type"), latin("too_many_requests_error")},
            {latin("param"), latin("quota")},
            {latin("code"), latin("request_quota_exceeded")}};
    }
    Reply r;
    r.status = 429;
    r.body = compact(body);
    std::optional<qint64> retryAfter = f.retryAfterSeconds;
    if (!retryAfter && f.dailyCap)
        retryAfter = 86399;
    if (retryAfter)
        r.headers << qMakePair(QByteArrayLiteral("retry-after"), number(*retryAfter));
    return r;
}

Reply geminiLimited(const RateLimitFacts &f)
{
    const int limit = f.limit > 0 ? f.limit : (f.dailyCap ? 20 : 5);
    const QString metric = latin("generativelanguage.googleapis.com/generate_content_free_tier_requests");
    // Per-minute answers always carry a retry hint; per-day ones only when one is known.
    std::optional<qint64> hintMs = f.resetInMs;
    if (f.retryAfterSeconds && !hintMs)
        hintMs = *f.retryAfterSeconds * 1000;
    QString retryText;
    QString retryDelay;
    if (hintMs) {
        retryText = plainSeconds(*hintMs);
        retryDelay = QString::number(ceilSeconds(*hintMs)) + QLatin1Char('s');
    } else if (!f.dailyCap) {
        retryText = latin("45.578569677");
        retryDelay = latin("45s");
    }
    QString message =
        QStringLiteral("You exceeded your current quota, please check your plan and billing details. "
                       "For more information on this error, head to: "
                       "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current "
                       "usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: "
                       "%1, limit: %2, model: %3")
            .arg(metric)
            .arg(limit)
            .arg(f.model);
    if (!retryText.isEmpty())
        message += QStringLiteral("\nPlease retry in %1s.").arg(retryText);
    const QString quotaId = f.dailyCap ? latin("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
                                       : latin("GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
    const QJsonObject help{
        {latin("@type"), latin("type.googleapis.com/google.rpc.Help")},
        {latin("links"), QJsonArray{QJsonObject{
                             {latin("description"), latin("Learn more about Gemini API quotas")},
                             {latin("url"), latin("https://ai.google.dev/gemini-api/docs/rate-limits")}}}}};
    const QJsonObject violation{{latin("quotaMetric"), metric},
                                {latin("quotaId"), quotaId},
                                {latin("quotaDimensions"), QJsonObject{{latin("location"), latin("global")},
                                                                       {latin("model"), f.model}}},
                                {latin("quotaValue"), QString::number(limit)}};
    const QJsonObject quotaFailure{{latin("@type"), latin("type.googleapis.com/google.rpc.QuotaFailure")},
                                   {latin("violations"), QJsonArray{violation}}};
    QJsonArray details{help, quotaFailure};
    if (!retryDelay.isEmpty()) {
        details.append(QJsonObject{{latin("@type"), latin("type.googleapis.com/google.rpc.RetryInfo")},
                                   {latin("retryDelay"), retryDelay}});
    }
    const QJsonObject error{{latin("code"), 429},
                            {latin("message"), message},
                            {latin("status"), latin("RESOURCE_EXHAUSTED")},
                            {latin("details"), details}};
    Reply r;
    r.status = 429;
    r.body = compactArray(QJsonObject{{latin("error"), error}});
    if (f.retryAfterSeconds)
        r.headers << qMakePair(QByteArrayLiteral("Retry-After"), number(*f.retryAfterSeconds));
    return r;
}

} // namespace

Headers windowHeaders(Dialect dialect, const WindowState &w, qint64 nowMs)
{
    Headers h;
    switch (dialect) {
    case Dialect::OpenAI:
    case Dialect::Groq:
        h << qMakePair(QByteArrayLiteral("x-ratelimit-limit-requests"), number(w.limit))
          << qMakePair(QByteArrayLiteral("x-ratelimit-limit-tokens"), number(w.tokenLimit))
          << qMakePair(QByteArrayLiteral("x-ratelimit-remaining-requests"), number(w.remaining))
          << qMakePair(QByteArrayLiteral("x-ratelimit-remaining-tokens"), number(w.tokensRemaining))
          << qMakePair(QByteArrayLiteral("x-ratelimit-reset-requests"), goDuration(w.resetInMs))
          << qMakePair(QByteArrayLiteral("x-ratelimit-reset-tokens"), goDuration(w.resetInMs));
        break;
    case Dialect::Cerebras:
        h << qMakePair(QByteArrayLiteral("x-ratelimit-limit-requests-day"), number(w.limit))
          << qMakePair(QByteArrayLiteral("x-ratelimit-limit-tokens-minute"), number(w.tokenLimit))
          << qMakePair(QByteArrayLiteral("x-ratelimit-remaining-requests-day"), number(w.remaining))
          << qMakePair(QByteArrayLiteral("x-ratelimit-remaining-tokens-minute"), number(w.tokensRemaining))
          << qMakePair(QByteArrayLiteral("x-ratelimit-reset-requests-day"), floatSeconds(w.resetInMs))
          << qMakePair(QByteArrayLiteral("x-ratelimit-reset-tokens-minute"), floatSeconds(w.resetInMs));
        break;
    case Dialect::OpenRouter:
        h << qMakePair(QByteArrayLiteral("X-RateLimit-Limit"), number(w.limit))
          << qMakePair(QByteArrayLiteral("X-RateLimit-Remaining"), number(w.remaining))
          << qMakePair(QByteArrayLiteral("X-RateLimit-Reset"), number(nowMs + w.resetInMs));
        break;
    case Dialect::Gemini:
        break;
    }
    return h;
}

Reply rateLimited(Dialect dialect, const RateLimitFacts &facts)
{
    Reply r;
    switch (dialect) {
    case Dialect::OpenAI:
    case Dialect::Groq:
        r = groqOrOpenAiLimited(dialect, facts);
        break;
    case Dialect::OpenRouter:
        r = openRouterLimited(facts);
        break;
    case Dialect::Cerebras:
        r = cerebrasLimited(facts);
        break;
    case Dialect::Gemini:
        r = geminiLimited(facts);
        break;
    }
    if (facts.window && dialect != Dialect::OpenRouter) // OpenRouter already sends its X-RateLimit-* trio
        r.headers << windowHeaders(dialect, *facts.window, facts.nowMs);
    return r;
}

Reply unauthorized(Dialect dialect, bool keyMissing)
{
    Reply r;
    r.status = 401;
    switch (dialect) {
    case Dialect::Groq:
        r.body =
            R"({"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}})";
        break;
    case Dialect::OpenAI:
        r.body =
            keyMissing
                ? R"({"error":{"message":"You didn't provide an API key.","type":"invalid_request_error","param":null,"code":null}})"
                : R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})";
        break;
    case Dialect::OpenRouter:
        r.body = keyMissing ? R"({"error":{"message":"No auth credentials found","code":401}})"
                            : R"({"error":{"message":"User not found.","code":401}})";
        break;
    case Dialect::Cerebras:
        r.body =
            R"({"message":"Wrong API Key","type":"invalid_request_error","param":"api_key","code":"wrong_api_key"})";
        break;
    case Dialect::Gemini:
        r.body =
            R"([{"error":{"code":401,"message":"API key not valid. Please pass a valid API key.","status":"UNAUTHENTICATED"}}])";
        break;
    }
    return r;
}

QByteArray errorBody(Dialect dialect, int status, const QString &message)
{
    const QString type = status >= 500 ? latin("server_error") : latin("invalid_request_error");
    switch (dialect) {
    case Dialect::Groq:
        return compact(
            QJsonObject{{latin("error"), QJsonObject{{latin("message"), message}, {latin("type"), type}}}});
    case Dialect::OpenAI:
        return compact(QJsonObject{{latin("error"), QJsonObject{{latin("message"), message},
                                                                {latin("type"), type},
                                                                {latin("param"), QJsonValue::Null},
                                                                {latin("code"), QJsonValue::Null}}}});
    case Dialect::OpenRouter:
        return compact(
            QJsonObject{{latin("error"), QJsonObject{{latin("message"), message}, {latin("code"), status}}}});
    case Dialect::Cerebras:
        return compact(QJsonObject{{latin("message"), message},
                                   {latin("type"), cerebrasType(status)},
                                   {latin("param"), QJsonValue::Null},
                                   {latin("code"), QJsonValue::Null}});
    case Dialect::Gemini:
        return compactArray(
            QJsonObject{{latin("error"), QJsonObject{{latin("code"), status},
                                                     {latin("message"), message},
                                                     {latin("status"), geminiStatus(status)}}}});
    }
    return {};
}

QByteArray inBandErrorObject(Dialect dialect)
{
    if (dialect == Dialect::OpenRouter)
        return QByteArrayLiteral(R"({"code":"server_error","message":"Provider disconnected unexpectedly"})");
    return QByteArrayLiteral(
        R"({"message":"The model failed while generating the response. Please try again.","type":"internal_server_error"})");
}

QStringList defaultModels(Dialect dialect)
{
    switch (dialect) {
    case Dialect::OpenAI:
        return {latin("gpt-4o-mini"), latin("gpt-4.1-nano")};
    case Dialect::Groq:
        return {latin("llama-3.1-8b-instant"), latin("llama-3.3-70b-versatile"),
                latin("openai/gpt-oss-120b")};
    case Dialect::OpenRouter:
        return {latin("meta-llama/llama-3.3-70b-instruct:free"), latin("qwen/qwen3-coder:free"),
                latin("google/gemma-3-27b-it:free")};
    case Dialect::Cerebras:
        return {latin("llama3.1-8b"), latin("gpt-oss-120b")};
    case Dialect::Gemini:
        return {latin("gemini-2.5-flash"), latin("gemini-2.5-flash-lite"), latin("gemma-3-27b-it")};
    }
    return {};
}

QByteArray modelsList(Dialect dialect, const QStringList &ids, qint64 nowMs)
{
    const qint64 created = nowMs / 1000 - 90 * 24 * 3600;
    QJsonArray data;
    for (const QString &id : ids) {
        QJsonObject m{{latin("id"), id}};
        switch (dialect) {
        case Dialect::OpenRouter: {
            const QJsonObject zeroPrice{{latin("prompt"), latin("0")},
                                        {latin("completion"), latin("0")},
                                        {latin("request"), latin("0")},
                                        {latin("image"), latin("0")}};
            m.insert(latin("canonical_slug"), id.section(QLatin1Char(':'), 0, 0));
            m.insert(latin("name"), QString(id + latin(" (simulated)")));
            m.insert(latin("created"), created);
            m.insert(latin("description"), latin("A simulated free model served by 429chain."));
            m.insert(latin("context_length"), 131072);
            m.insert(latin("architecture"),
                     QJsonObject{{latin("modality"), latin("text->text")},
                                 {latin("input_modalities"), QJsonArray{latin("text")}},
                                 {latin("output_modalities"), QJsonArray{latin("text")}},
                                 {latin("tokenizer"), latin("Llama3")},
                                 {latin("instruct_type"), QJsonValue::Null}});
            m.insert(latin("pricing"), zeroPrice);
            m.insert(latin("top_provider"), QJsonObject{{latin("context_length"), 131072},
                                                        {latin("max_completion_tokens"), 8192},
                                                        {latin("is_moderated"), false}});
            m.insert(latin("per_request_limits"), QJsonValue::Null);
            m.insert(latin("supported_parameters"),
                     QJsonArray{latin("temperature"), latin("top_p"), latin("max_tokens"), latin("stop")});
            break;
        }
        case Dialect::Groq:
            m.insert(latin("object"), latin("model"));
            m.insert(latin("created"), created);
            m.insert(latin("owned_by"), latin("Meta"));
            m.insert(latin("active"), true);
            m.insert(latin("context_window"), 131072);
            m.insert(latin("max_completion_tokens"), 8192);
            m.insert(latin("public_apps"), QJsonValue::Null);
            break;
        case Dialect::Cerebras:
            m.insert(latin("object"), latin("model"));
            m.insert(latin("created"), created);
            m.insert(latin("owned_by"), latin("Cerebras"));
            break;
        case Dialect::Gemini:
            m.insert(latin("id"), QString(latin("models/") + id));
            m.insert(latin("object"), latin("model"));
            m.insert(latin("owned_by"), latin("google"));
            break;
        case Dialect::OpenAI:
            m.insert(latin("object"), latin("model"));
            m.insert(latin("created"), created);
            m.insert(latin("owned_by"), latin("openai"));
            break;
        }
        data.append(m);
    }
    QJsonObject list{{latin("data"), data}};
    if (dialect != Dialect::OpenRouter)
        list.insert(latin("object"), latin("list"));
    return compact(list);
}

QByteArray goDuration(qint64 ms)
{
    if (ms <= 0)
        return QByteArrayLiteral("0s");
    if (ms < 1000)
        return number(ms) + "ms";
    const qint64 hours = ms / 3600000;
    const qint64 minutes = (ms / 60000) % 60;
    const qint64 seconds = (ms / 1000) % 60;
    const qint64 millis = ms % 1000;
    QByteArray out;
    if (hours > 0)
        out += number(hours) + 'h';
    if (hours > 0 || minutes > 0)
        out += number(minutes) + 'm';
    out += number(seconds);
    if (millis > 0) {
        QByteArray fraction = QByteArray::number(millis).rightJustified(3, '0');
        while (fraction.endsWith('0'))
            fraction.chop(1);
        out += '.' + fraction;
    }
    out += 's';
    return out;
}

QByteArray floatSeconds(qint64 ms)
{
    return plainSeconds(qMax<qint64>(0, ms)).toLatin1();
}

qint64 nextUtcMidnightMs(qint64 nowMs)
{
    return (nowMs / kDayMs + 1) * kDayMs;
}

} // namespace SimDialect
