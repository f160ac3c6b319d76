#pragma once

#include "apierror.h"

#include <QJsonObject>
#include <QString>

#include <optional>

// A client's chat-completion request after validation: the body exactly as sent (fields we do not know are
// kept and forwarded), plus what routing needs from it.
struct ChatRequest
{
    QJsonObject body;
    QString model; // what the client asked for: a chain name, or anything (→ default chain)
    bool stream = false;
    bool clientWantsUsage = false; // stream_options.include_usage from the client
    qint64 estimatedPromptTokens = 0;
    QString clientKeyLabel; // set by the HTTP layer after auth

    // Parses and validates a request body; on failure returns the 400 to send.
    static std::optional<ApiError> parse(const QByteArray &json, ChatRequest *out);
    // Rough token count of a text (about four characters a token), for estimates and missing usage.
    static qint64 estimateTokens(qint64 characters) { return characters <= 0 ? 0 : (characters + 3) / 4; }
};
