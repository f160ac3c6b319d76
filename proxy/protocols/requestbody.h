#pragma once

#include "apierror.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// The first check every protocol's request parser makes: the body is a JSON object. `what` names the request
// in the message of an empty body ("a JSON Messages request"). On failure returns the 400 to send.
namespace RequestBody {
std::optional<ApiError> parseObject(const QByteArray &json, const QString &what, QJsonObject *out);
}
