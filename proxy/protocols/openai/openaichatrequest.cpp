#include "openaichatrequest.h"

#include "requestbody.h"

#include <QJsonArray>
#include <QJsonDocument>

std::optional<ApiError> OpenAiChatRequest::parse(const QByteArray &json, OpenAiChatRequest *out)
{
    QJsonObject body;
    if (auto error = RequestBody::parseObject(json, QStringLiteral("a JSON chat completion request"), &body))
        return error;
    const QJsonValue model = body.value(QLatin1String("model"));
    if (!model.isUndefined() && !model.isNull() && !model.isString())
        return ApiError::invalidRequest(QStringLiteral("'model' must be a string."), QStringLiteral("model"));

    const QJsonValue messages = body.value(QLatin1String("messages"));
    if (messages.isUndefined())
        return ApiError::invalidRequest(QStringLiteral("Missing required parameter: 'messages'."),
                                        QStringLiteral("messages"));
    if (!messages.isArray() || messages.toArray().isEmpty())
        return ApiError::invalidRequest(QStringLiteral("'messages' must be a non-empty array."),
                                        QStringLiteral("messages"));
    const QJsonArray list = messages.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonValue m = list.at(i);
        const QString param = QStringLiteral("messages[%1]").arg(i);
        if (!m.isObject())
            return ApiError::invalidRequest(QStringLiteral("'%1' must be an object.").arg(param), param);
        if (!m.toObject().value(QLatin1String("role")).isString()) {
            return ApiError::invalidRequest(
                QStringLiteral("'%1.role' is required and must be a string.").arg(param),
                param + QLatin1String(".role"));
        }
    }

    const QJsonValue stream = body.value(QLatin1String("stream"));
    if (!stream.isUndefined() && !stream.isNull() && !stream.isBool())
        return ApiError::invalidRequest(QStringLiteral("'stream' must be a boolean."),
                                        QStringLiteral("stream"));
    const QJsonValue options = body.value(QLatin1String("stream_options"));
    if (!options.isUndefined() && !options.isNull() && !options.isObject())
        return ApiError::invalidRequest(QStringLiteral("'stream_options' must be an object."),
                                        QStringLiteral("stream_options"));

    OpenAiChatRequest parsed;
    parsed.clientWantsUsage = options.toObject().value(QLatin1String("include_usage")).toBool(false);
    parsed.request = EngineRequest::chat(body);
    *out = std::move(parsed);
    return std::nullopt;
}
