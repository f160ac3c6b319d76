#pragma once

#include "apierror.h"
#include "enginerequest.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

// A client's POST /v1/messages (or /v1/messages/count_tokens) body in Anthropic's Messages format, checked
// and translated into the engine's format (an OpenAI chat-completions body):
//   system (string or text blocks) and `role: "system"` messages → system messages; text blocks → text
//   parts; image blocks (base64 or url source) → image_url parts; tool_use blocks → the assistant message's
//   tool_calls (arguments: the input as JSON text); tool_result blocks (string, text or image content,
//   is_error) → `tool` messages in their order, right after the assistant message that asked (an error
//   result's text starts with "Error: "; images of a result follow in a user message, since a `tool` message
//   carries only text); thinking and redacted_thinking blocks → dropped; tools (custom) → function tools
//   with input_schema as parameters; server tools (web search, code execution, bash, text editor, computer:
//   any `type` but "custom") → dropped with a warning in the log, since a chat-completions upstream cannot
//   run them; tool_choice auto/any/tool/none → auto/required/{function}/none (disable_parallel_tool_use →
//   parallel_tool_calls: false); max_tokens, temperature, top_p, stop_sequences (→ stop), stream.
//   metadata, top_k, thinking, cache_control marks, context_management, output_config, service_tier,
//   container and mcp_servers are dropped.
// Bad input gets a 400 invalid_request_error that names the field ("messages.2.content.0.type: …").
struct AnthropicRequest
{
    enum class Purpose { Messages, CountTokens };

    EngineRequest request;
    QString clientModel;       // the model the client named: the answer's `model`
    QStringList stopSequences; // to tell a stop sequence from a natural end, where a provider says which
    QStringList droppedTools;  // server tools left out, by name (or type)

    // Parses, validates and translates a request body; on failure returns the 400 to send. CountTokens does
    // not require max_tokens (Anthropic's count_tokens has none).
    static std::optional<ApiError> parse(const QByteArray &json, AnthropicRequest *out,
                                         Purpose purpose = Purpose::Messages);
};
