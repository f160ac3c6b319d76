#pragma once

#include "protocolsink.h"

// The answer to a POST /v1/embeddings client: the provider's answer with `model` set to what the client
// asked for. When the client asked for base64 and the provider answered floats anyway, each embedding is
// encoded here (little-endian float32, as OpenAI's base64 is), so a client that decodes base64 (the openai
// SDKs ask for it by default) never gets floats it did not ask for. Errors are OpenAI-shaped. Embeddings are
// never streamed: the stream calls of EngineSink are not used.
class EmbeddingsSink : public ProtocolSink
{
    Q_OBJECT

public:
    EmbeddingsSink(ClientTransport *transport, const QString &clientModel, bool base64,
                   QObject *parent = nullptr);

    void whole(const WholeAnswer &answer) override;
    void begin(const ServedBy &servedBy) override;
    void chunk(const StreamPiece &piece) override;
    void done() override;
    void fail(const EngineFailure &failure) override;

    // The answer as the client gets it (what whole() sends).
    static QByteArray clientBody(const QByteArray &providerBody, const QString &clientModel, bool base64);
    // Floats as little-endian float32, base64-encoded.
    static QByteArray encodeFloats(const QJsonArray &values);

private:
    QString m_clientModel;
    bool m_base64;
};
