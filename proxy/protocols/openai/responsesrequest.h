#pragma once

#include "apierror.h"
#include "enginerequest.h"

#include <QByteArray>
#include <QJsonObject>

#include <optional>

// A client's POST /v1/responses body (OpenAI Responses: Codex CLI, the Agents SDK) taken into the engine's
// format, an OpenAI chat body, or the 400 to send in OpenAI's shape.
//
// Translated: `input` (a string, or items: messages of roles user / assistant / system / developer with
// input_text, output_text, refusal and input_image parts; function_call items → the assistant's tool_calls;
// function_call_output items → tool messages, matched by call_id), `instructions` (the first system
// message), function tools, tool_choice, max_output_tokens, temperature, top_p, text.format (json_schema /
// json_object → response_format), parallel_tool_calls, stream, user.
// Dropped, because a chat upstream cannot take them: reasoning items of the history, tools that are not
// functions (web_search, namespace, custom, …; each logged with a warning), include, reasoning,
// prompt_cache_key, client_metadata, metadata, truncation, service_tier. `store` is accepted and nothing is
// stored. Refused with a 400, because they need state this proxy does not keep: previous_response_id,
// conversation, item_reference items, background.
struct ResponsesRequest
{
    EngineRequest request;
    // What the Response object repeats of the request (ResponsesSink): model (as the client sent it),
    // instructions, tools (the function tools that were forwarded, in the Responses shape), tool_choice,
    // parallel_tool_calls, temperature, top_p, max_output_tokens, text, metadata.
    QJsonObject echo;

    static std::optional<ApiError> parse(const QByteArray &json, ResponsesRequest *out);
};
