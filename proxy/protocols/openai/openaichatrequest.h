#pragma once

#include "apierror.h"
#include "enginerequest.h"

#include <QByteArray>

#include <optional>

// A client's POST /v1/chat/completions body, checked and taken into the engine's format (which is the same
// format: fields we do not know are kept and forwarded), plus what only the client's side needs.
struct OpenAiChatRequest
{
    EngineRequest request;
    bool clientWantsUsage = false; // stream_options.include_usage: the usage chunk reaches the client

    // Parses and validates a request body; on failure returns the 400 to send.
    static std::optional<ApiError> parse(const QByteArray &json, OpenAiChatRequest *out);
};
