#include "embeddingsoperation.h"

#include "providerkind.h"
#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

qint64 EmbeddingsOperation::reservedTokens(const EngineRequest &request, const ProviderConfig &provider,
                                           const ChainEntry &entry) const
{
    Q_UNUSED(provider);
    Q_UNUSED(entry);
    return request.estimatedPromptTokens;
}

UpstreamCall::Request EmbeddingsOperation::upstreamRequest(const EngineRequest &request,
                                                           const ProviderConfig &provider,
                                                           const ChainEntry &entry,
                                                           const Settings &settings) const
{
    QJsonObject body = request.body;
    body.insert(QLatin1String("model"), entry.model);
    return ProviderKind::upstreamRequest(provider, QStringLiteral("/embeddings"), body,
                                         settings.requestTimeoutMs);
}

Operation::WholeVerdict EmbeddingsOperation::judgeWhole(const QByteArray &body,
                                                        const Settings &settings) const
{
    Q_UNUSED(settings);
    WholeVerdict verdict;
    const QJsonObject obj = QJsonDocument::fromJson(body).object();
    if (!obj.value(QLatin1String("data")).isArray()) {
        verdict.problem = QStringLiteral("200 without embeddings: %1").arg(StreamChunk::errorMessage(body));
        return verdict;
    }
    verdict.ok = true;
    verdict.usage = StreamChunk::usageOf(obj);
    verdict.body = body;
    return verdict;
}
