#pragma once

#include "apierror.h"

#include <QByteArray>
#include <QString>

// Which protocol's error shape a path answers in: Anthropic's under /v1/messages, OpenAI's everywhere else
// (chat completions, models, the proxy's own API). One table, used by ApiServer::sendError and by
// ConnectionGuard's own refusals (413, 431, 408), so a client gets every error in the shape its SDK reads.
namespace ErrorFormats {

// The error body for a request to `path` (the URL path, without the query).
QByteArray json(const QString &path, const ApiError &error);

} // namespace ErrorFormats
