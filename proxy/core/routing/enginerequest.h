#pragma once

#include <QJsonObject>
#include <QString>

// A client request as the engine serves it, made by a client protocol adapter at the edge (OpenAI chat,
// Anthropic Messages, OpenAI Responses, embeddings): the body in the engine's format, which is what the
// providers speak (see chatformat.h), plus what routing needs from it. The engine never sees the client's
// own wire format.
struct EngineRequest
{
    // What is asked of the upstream: a chat completion (whole or streamed) or embeddings.
    enum class Operation { Chat, Embeddings };
    // Which client protocol the request came in: for the request log, the metrics and the UIs.
    enum class Protocol { Chat, Messages, Responses, Embeddings };

    Operation operation = Operation::Chat;
    Protocol protocol = Protocol::Chat;
    // The engine's format: a /chat/completions (or /embeddings) body. Fields the engine does not know are
    // forwarded as they are; "model" is replaced by each entry's model.
    QJsonObject body;
    QString model; // what the client asked for: a chain name, or anything (→ aliases, then the default chain)
    bool stream = false;
    qint64 estimatedPromptTokens = 0;
    QString clientKeyLabel; // which proxy key was used ("key 1"), set by the HTTP layer after auth

    // A chat request over `body` (an OpenAI chat-completions body): model, stream and the prompt estimate
    // read from it. Validation is the adapter's job; this only reads.
    static EngineRequest chat(QJsonObject body, Protocol protocol = Protocol::Chat);
    // An embeddings request over `body` (an OpenAI embeddings body).
    static EngineRequest embeddings(QJsonObject body);

    // The prompt's size in tokens, estimated from its text: messages (string or text parts), tool calls and
    // the tools' definitions of a chat body; `input` of an embeddings body.
    static qint64 estimatePromptTokens(const QJsonObject &body);
    // Rough token count of a text (about four characters a token), for estimates and missing usage.
    static qint64 estimateTokens(qint64 characters) { return characters <= 0 ? 0 : (characters + 3) / 4; }

    // "chat", "messages", "responses", "embeddings": the names the log, the metrics and the UIs use.
    static QString protocolName(Protocol protocol);
    static bool protocolFromName(const QString &name, Protocol *protocol);
};
