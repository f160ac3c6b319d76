#pragma once

#include "operation.h"

// POST /embeddings upstream: never streamed; the answer's usage counts the input only.
class EmbeddingsOperation : public Operation
{
public:
    qint64 reservedTokens(const EngineRequest &request, const ProviderConfig &provider,
                          const ChainEntry &entry) const override;
    UpstreamCall::Request upstreamRequest(const EngineRequest &request, const ProviderConfig &provider,
                                          const ChainEntry &entry, const Settings &settings) const override;
    WholeVerdict judgeWhole(const QByteArray &body, const Settings &settings) const override;
};
