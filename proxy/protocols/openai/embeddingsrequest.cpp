#include "embeddingsrequest.h"

#include "requestbody.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

ApiError invalidInput(const QString &message)
{
    return ApiError::invalidRequest(message, latin("input"));
}

bool isToken(const QJsonValue &v)
{
    return v.isDouble() && v.toDouble() >= 0 && v.toDouble() == double(v.toInteger());
}

std::optional<ApiError> checkInput(const QJsonValue &input)
{
    const QString expected = latin("'input' must be a non-empty string, an array of strings, an array of "
                                   "token ids or an array of token id arrays.");
    if (input.isUndefined())
        return invalidInput(latin("Missing required parameter: 'input'."));
    if (input.isString())
        return input.toString().isEmpty() ? std::optional(invalidInput(expected)) : std::nullopt;
    if (!input.isArray() || input.toArray().isEmpty())
        return invalidInput(expected);
    const QJsonArray items = input.toArray();
    const QJsonValue first = items.first();
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonValue item = items.at(i);
        bool ok = false;
        if (first.isString())
            ok = item.isString() && !item.toString().isEmpty();
        else if (first.isDouble())
            ok = isToken(item);
        else if (first.isArray()) {
            const QJsonArray tokens = item.toArray();
            ok = item.isArray() && !tokens.isEmpty();
            for (const auto &t : tokens)
                ok = ok && isToken(t);
        }
        if (!ok)
            return invalidInput(latin("'input[%1]' is invalid: %2").arg(i).arg(expected));
    }
    return std::nullopt;
}

} // namespace

std::optional<ApiError> EmbeddingsRequest::parse(const QByteArray &json, EmbeddingsRequest *out)
{
    QJsonObject body;
    if (auto error = RequestBody::parseObject(json, QStringLiteral("a JSON embeddings request"), &body))
        return error;
    const QJsonValue model = body.value(QLatin1String("model"));
    if (!model.isUndefined() && !model.isNull() && !model.isString())
        return ApiError::invalidRequest(latin("'model' must be a string."), latin("model"));
    if (const auto error = checkInput(body.value(QLatin1String("input"))))
        return error;
    const QJsonValue format = body.value(QLatin1String("encoding_format"));
    if (!format.isUndefined() && !format.isNull() && format != QJsonValue(latin("float")) &&
        format != QJsonValue(latin("base64")))
        return ApiError::invalidRequest(latin("'encoding_format' must be float or base64."),
                                        latin("encoding_format"));
    const QJsonValue dimensions = body.value(QLatin1String("dimensions"));
    if (!dimensions.isUndefined() && !dimensions.isNull() &&
        !(isToken(dimensions) && dimensions.toInteger() > 0))
        return ApiError::invalidRequest(latin("'dimensions' must be a positive integer."),
                                        latin("dimensions"));

    EmbeddingsRequest parsed;
    parsed.clientModel = model.toString();
    parsed.base64 = format == QJsonValue(latin("base64"));
    parsed.request = EngineRequest::embeddings(body);
    *out = std::move(parsed);
    return std::nullopt;
}
