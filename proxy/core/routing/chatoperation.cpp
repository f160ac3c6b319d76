#include "chatoperation.h"

#include "providerkind.h"
#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

qint64 ChatOperation::requestedOutputTokens(const QJsonObject &body)
{
    return qMax<qint64>(0, qMax(body.value(QLatin1String("max_tokens")).toInteger(),
                                body.value(QLatin1String("max_completion_tokens")).toInteger()));
}

int ChatOperation::outputCap(const ProviderConfig &provider, const ChainEntry &entry)
{
    return entry.maxOutputTokens.value_or(ProviderKind::defaultMaxOutputTokens(provider.type));
}

qint64 ChatOperation::reservedTokens(const EngineRequest &request, const ProviderConfig &provider,
                                     const ChainEntry &entry) const
{
    // Providers count the most the answer may take against their token windows too: as this entry is asked.
    qint64 output = requestedOutputTokens(request.body);
    if (const int cap = outputCap(provider, entry); cap > 0)
        output = qMin<qint64>(output, cap);
    return request.estimatedPromptTokens + output;
}

UpstreamCall::Request ChatOperation::upstreamRequest(const EngineRequest &request,
                                                     const ProviderConfig &provider, const ChainEntry &entry,
                                                     const Settings &settings) const
{
    QJsonObject body = request.body;
    body.insert(QLatin1String("model"), entry.model);
    if (request.stream) {
        QJsonObject options = body.value(QLatin1String("stream_options")).toObject();
        options.insert(QLatin1String("include_usage"), true);
        body.insert(QLatin1String("stream_options"), options);
    }
    if (const int cap = outputCap(provider, entry); cap > 0) {
        // A coding agent's max_tokens of 64000 fits no free tier: each entry is asked for what it can give.
        for (const char *key : {"max_tokens", "max_completion_tokens"}) {
            if (body.value(QLatin1String(key)).toInteger() > cap)
                body.insert(QLatin1String(key), cap);
        }
    }
    ProviderKind::adaptBody(provider.type, entry.model, body);
    UpstreamCall::Request upstream = ProviderKind::upstreamRequest(
        provider, QStringLiteral("/chat/completions"), body, settings.requestTimeoutMs);
    upstream.stream = request.stream;
    upstream.idleTimeoutMs = settings.streamIdleTimeoutMs;
    return upstream;
}

Operation::WholeVerdict ChatOperation::judgeWhole(const QByteArray &body, const Settings &settings) const
{
    WholeVerdict verdict;
    QJsonObject obj = QJsonDocument::fromJson(body).object();
    if (obj.isEmpty() || (obj.contains(QLatin1String("error")) && !obj.contains(QLatin1String("choices")))) {
        // Some providers answer 200 with an error body.
        verdict.problem = QStringLiteral("200 with an error body: %1").arg(StreamChunk::errorMessage(body));
        return verdict;
    }
    verdict.ok = true;
    verdict.usage = StreamChunk::usageOf(obj);
    for (const auto &c : obj.value(QLatin1String("choices")).toArray())
        verdict.answerCharacters += c.toObject()
                                        .value(QLatin1String("message"))
                                        .toObject()
                                        .value(QLatin1String("content"))
                                        .toString()
                                        .size();
    verdict.body = body;
    if (settings.normalizeResponses && StreamChunk::normalizeReasoning(obj))
        verdict.body = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    return verdict;
}
