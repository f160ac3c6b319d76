#pragma once

#include "chatformat.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QString>

#include <optional>

// Reads what the router needs from provider JSON: an SSE chunk's content/usage/error, a usage object in any
// of its places (OpenAI `usage`, Groq `x_groq.usage`), and a readable message from any provider's error body
// (OpenAI-style `error.message`, Cerebras' flat body, Gemini's array).
namespace StreamChunk {

struct Info
{
    bool isJson = false;
    bool hasError = false;
    QString errorMessage;
    bool hasContent = false; // content, reasoning or tool-call delta: the stream can be committed
    bool finished = false;   // a finish_reason was given
    bool usageOnly = false;  // `choices: []` with usage: the include_usage chunk
    std::optional<TokenUsage> usage;
    QByteArray rewritten; // set when normalizeReasoning changed the chunk
};

Info inspect(QByteArrayView data, bool normalize = false);
// Characters of the "content" strings in a chunk, found by a scan instead of a JSON parse (the relay's hot
// path): what a token estimate is made from when a stream brings no usage.
qint64 contentCharacters(QByteArrayView data);
// Appends those "content" strings as JSON wrote them (each followed by a comma) to `strings`: what a stream
// delivered, kept without decoding on the relay's path; decodeContentStrings() gives their text when needed.
void appendContentStrings(QByteArrayView data, QByteArray *strings);
QString decodeContentStrings(const QByteArray &strings);
std::optional<TokenUsage> usageOf(const QJsonObject &obj);
QString errorMessage(const QByteArray &body);
// Moves reasoning_content into content where content is empty (settings.normalizeResponses).
bool normalizeReasoning(QJsonObject &obj);

} // namespace StreamChunk
