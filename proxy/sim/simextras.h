#pragma once

#include "simexchange.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

// Answers of a SimulatedProvider beyond plain text chat: tool calls (whole or streamed as real providers do:
// the call's first chunk names it, the following ones carry pieces of its arguments, the last one says
// finish_reason "tool_calls") and embeddings (POST /v1/embeddings: one deterministic float vector per input,
// with usage). Pure functions of their inputs, used by SimulatedProvider.
namespace SimExtras {

struct ToolCall
{
    QString id; // "call_…"
    QString name;
    QString arguments; // JSON text
};

struct ToolAnswer
{
    QString model;
    QString text; // content before the calls; may be empty
    QList<ToolCall> calls;
    int promptTokens = 1;
    qint64 created = 0;
    QString id;
};

QByteArray toolCallJson(const ToolAnswer &answer, bool reportsUsage);
// role chunk, text, per call a naming chunk and argument pieces, finish chunk, usage chunk (if asked),
// [DONE].
QList<SimExchange::Action> toolCallStream(const ToolAnswer &answer, bool includeUsage,
                                          const ResponseWriter::Headers &headers);

// An embeddings answer for `body` (input as a string, strings or token arrays; `dimensions` honoured, 8 by
// default). Floats, unless `base64` (then what OpenAI sends for encoding_format: base64).
QByteArray embeddingsJson(const QJsonObject &body, const QString &model, bool base64);
// The vector the simulator gives `text` (its base64 answer is these floats as little-endian float32).
QList<float> embeddingOf(const QString &text, int dimensions);

} // namespace SimExtras
