#include "apierror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace {
QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}
} // namespace

QByteArray ApiError::toJson() const
{
    const QJsonObject error{{QStringLiteral("message"), message},
                            {QStringLiteral("type"), type},
                            {QStringLiteral("param"), orNull(param)},
                            {QStringLiteral("code"), orNull(code)}};
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

QByteArray ApiError::toSseEvent() const
{
    return "event: error\ndata: " + toJson() + "\n\n";
}

ApiError ApiError::invalidRequest(const QString &message, const QString &param, const QString &code)
{
    return ApiError{400, message, QStringLiteral("invalid_request_error"), code, param, -1};
}

ApiError ApiError::unauthorized(const QString &message)
{
    return ApiError{401, message, QStringLiteral("invalid_request_error"), QStringLiteral("invalid_api_key"),
                    {},  -1};
}

ApiError ApiError::notFound(const QString &message)
{
    return ApiError{404, message, QStringLiteral("invalid_request_error"), QStringLiteral("not_found"),
                    {},  -1};
}
