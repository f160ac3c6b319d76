#include "openaierror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace {
QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}
} // namespace

namespace OpenAiError {

QString typeOf(ApiError::Kind kind)
{
    switch (kind) {
    case ApiError::Kind::InvalidRequest:
    case ApiError::Kind::Authentication:
    case ApiError::Kind::Permission:
    case ApiError::Kind::NotFound:
    case ApiError::Kind::TooLarge:
        return QStringLiteral("invalid_request_error");
    case ApiError::Kind::RateLimit:
        return QStringLiteral("rate_limit_error");
    case ApiError::Kind::Timeout:
    case ApiError::Kind::Overloaded:
    case ApiError::Kind::Server:
        break;
    }
    return QStringLiteral("server_error");
}

QByteArray json(const ApiError &error)
{
    const QJsonObject body{{QStringLiteral("message"), error.message},
                           {QStringLiteral("type"), typeOf(error.kind)},
                           {QStringLiteral("param"), orNull(error.param)},
                           {QStringLiteral("code"), orNull(error.code)}};
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), body}}).toJson(QJsonDocument::Compact);
}

QByteArray sseEvent(const ApiError &error)
{
    return "event: error\ndata: " + json(error) + "\n\n";
}

} // namespace OpenAiError
