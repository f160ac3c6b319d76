#include "anthropicerror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace AnthropicError {

QString typeOf(ApiError::Kind kind)
{
    switch (kind) {
    case ApiError::Kind::InvalidRequest:
        return QStringLiteral("invalid_request_error");
    case ApiError::Kind::Authentication:
        return QStringLiteral("authentication_error");
    case ApiError::Kind::Permission:
        return QStringLiteral("permission_error");
    case ApiError::Kind::NotFound:
        return QStringLiteral("not_found_error");
    case ApiError::Kind::TooLarge:
        return QStringLiteral("request_too_large");
    case ApiError::Kind::RateLimit:
        return QStringLiteral("rate_limit_error");
    case ApiError::Kind::Overloaded:
        return QStringLiteral("overloaded_error");
    case ApiError::Kind::Timeout:
    case ApiError::Kind::Server:
        break;
    }
    return QStringLiteral("api_error");
}

QByteArray json(const ApiError &error)
{
    const QJsonObject inner{{QStringLiteral("type"), typeOf(error.kind)},
                            {QStringLiteral("message"), error.message}};
    return QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                                     {QStringLiteral("error"), inner}})
        .toJson(QJsonDocument::Compact);
}

QByteArray sseEvent(const ApiError &error)
{
    return "event: error\ndata: " + json(error) + "\n\n";
}

} // namespace AnthropicError
