#pragma once

#include "apierror.h"

#include <QByteArray>
#include <QString>

// Errors in OpenAI's shape: {"error":{"message","type","param","code"}}, for the chat-completions,
// responses, embeddings and models routes and for the proxy's own API (stats, admin).
namespace OpenAiError {

// invalid_request_error, rate_limit_error or server_error: the `type` OpenAI's SDKs know.
QString typeOf(ApiError::Kind kind);
QByteArray json(const ApiError &error);
// The same error as an SSE event (`event: error`), for a stream that fails after it began.
QByteArray sseEvent(const ApiError &error);

} // namespace OpenAiError
