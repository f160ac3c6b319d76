#pragma once

#include "protocolsink.h"

// The answer to a POST /v1/chat/completions client. The engine's format is this protocol's, so the
// provider's bytes are relayed untouched (the fast path): a whole answer as its JSON, a stream chunk by
// chunk; a stream that ends well ends with `data: [DONE]`, one that fails after it began ends with an
// `event: error` carrying an OpenAI error and no [DONE], so no client mistakes a truncated answer for a whole
// one. The usage chunk the engine asks every provider for reaches the client only if it asked for it.
class OpenAiChatSink : public ProtocolSink
{
    Q_OBJECT

public:
    OpenAiChatSink(ClientTransport *transport, bool clientWantsUsage, QObject *parent = nullptr);

    void whole(const WholeAnswer &answer) override;
    void begin(const ServedBy &servedBy) override;
    void chunk(const StreamPiece &piece) override;
    void done() override;
    void fail(const EngineFailure &failure) override;

    // An error answer of this protocol (also used by the embeddings and responses routes): the provider's
    // own body when it is OpenAI-shaped, else ours.
    static QByteArray errorBody(const EngineFailure &failure);

private:
    bool m_clientWantsUsage;
    bool m_streaming = false;
};
