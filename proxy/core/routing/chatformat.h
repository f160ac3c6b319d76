#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>

// The engine's format is OpenAI chat completions, the format every provider speaks: a request body as
// /chat/completions takes it, a whole `chat.completion` answer, or a stream of `chat.completion.chunk`
// events. These types say what an answer or a chunk of it means, so a sink that translates it into another
// client protocol (Anthropic Messages, OpenAI Responses) or shows it (the desktop's test prompt) reads
// fields instead of parsing provider JSON itself. Only the first choice is read: the other protocols have no
// `n`, and an OpenAI chat client gets the provider's bytes as they are.

struct TokenUsage
{
    qint64 prompt = 0;
    qint64 completion = 0;
    qint64 total = 0;
    bool estimated =
        false; // the provider said nothing: counted from the text (about four characters a token)
};

// One piece of one tool call, as a stream delivers it: the first piece of a call names it, the rest carry
// more of its JSON arguments text.
struct ToolCallDelta
{
    int index = 0;     // which call of the answer; parallel calls each have their own
    QString id;        // on the call's first piece
    QString name;      // on the call's first piece
    QString arguments; // a piece of the arguments' JSON text
};

// What one chunk of a stream means.
struct ChatDelta
{
    QString id; // the completion's id, the same on every chunk
    QString model;
    qint64 created = 0;
    QString role;      // "assistant" on the first chunk of most providers
    QString text;      // content
    QString reasoning; // reasoning_content (or reasoning), where a model thinks aloud
    QList<ToolCallDelta> toolCalls;
    QString finishReason; // stop, length, tool_calls, content_filter, …; empty until the last chunk
    std::optional<TokenUsage> usage;

    // From a chunk's JSON (an SSE event's data); fields a chunk lacks stay empty.
    static ChatDelta parse(QByteArrayView json);
};

// A whole tool call of a whole answer.
struct ToolCall
{
    QString id;
    QString name;
    QString arguments; // JSON text, as the model wrote it (not always valid JSON)
};

// What a whole `chat.completion` answer means.
struct ChatAnswer
{
    QString id;
    QString model;
    qint64 created = 0;
    QString text;
    QString reasoning;
    QList<ToolCall> toolCalls;
    QString finishReason;
    std::optional<TokenUsage> usage;

    static ChatAnswer parse(QByteArrayView json);
};
