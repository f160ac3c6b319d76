#pragma once

#include "apierror.h"

#include <QByteArray>
#include <QString>

// Errors in Anthropic's shape: {"type":"error","error":{"type","message"}}, for /v1/messages and every path
// under it (auth, unknown routes, methods, bad bodies included), so @anthropic-ai/sdk and Claude Code read
// them as Anthropic's own.
//
// Statuses: the ApiError's own, with one exception kept on purpose. Anthropic answers 529 overloaded_error
// when its model servers are saturated; 429chain never sees that itself (its "overloaded" is the proxy
// paused, the queue full or a shutdown) and keeps the honest 503 with type overloaded_error, which the SDKs
// retry like a 529. Qt 6.4's responder cannot write a 529 status line anyway.
namespace AnthropicError {

// invalid_request_error, authentication_error, permission_error, not_found_error, request_too_large,
// rate_limit_error, overloaded_error or api_error.
QString typeOf(ApiError::Kind kind);
QByteArray json(const ApiError &error);
// The same error as the SSE event that ends a stream which failed after it began (`event: error`).
QByteArray sseEvent(const ApiError &error);

} // namespace AnthropicError
