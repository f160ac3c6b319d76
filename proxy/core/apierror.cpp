#include "apierror.h"

ApiError ApiError::make(int status, Kind kind, const QString &code, const QString &message)
{
    ApiError error;
    error.status = status;
    error.kind = kind;
    error.code = code;
    error.message = message;
    return error;
}

ApiError ApiError::invalidRequest(const QString &message, const QString &param, const QString &code)
{
    ApiError error = make(400, Kind::InvalidRequest, code, message);
    error.param = param;
    return error;
}

ApiError ApiError::unauthorized(const QString &message)
{
    return make(401, Kind::Authentication, QStringLiteral("invalid_api_key"), message);
}

ApiError ApiError::notFound(const QString &message)
{
    return make(404, Kind::NotFound, QStringLiteral("not_found"), message);
}
