#include "requestbody.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace RequestBody {

std::optional<ApiError> parseObject(const QByteArray &json, const QString &what, QJsonObject *out)
{
    if (json.trimmed().isEmpty())
        return ApiError::invalidRequest(QStringLiteral("Request body is empty; expected %1.").arg(what));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return ApiError::invalidRequest(QStringLiteral("Request body is not valid JSON: %1 at offset %2.")
                                            .arg(parseError.errorString())
                                            .arg(parseError.offset));
    }
    if (!doc.isObject())
        return ApiError::invalidRequest(QStringLiteral("Request body must be a JSON object."));
    *out = doc.object();
    return std::nullopt;
}

} // namespace RequestBody
