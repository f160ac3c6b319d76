#pragma once

#include "operation.h"

// POST /chat/completions upstream, whole or streamed. A stream always asks for the usage chunk
// (stream_options.include_usage) so tokens are counted; whether the client sees it is its protocol's
// business.
class ChatOperation : public Operation
{
public:
    qint64 reservedTokens(const EngineRequest &request, const ProviderConfig &provider,
                          const ChainEntry &entry) const override;
    UpstreamCall::Request upstreamRequest(const EngineRequest &request, const ProviderConfig &provider,
                                          const ChainEntry &entry, const Settings &settings) const override;
    WholeVerdict judgeWhole(const QByteArray &body, const Settings &settings) const override;

    // The most the answer may take, as the body asks (max_tokens or max_completion_tokens); 0 when unset.
    static qint64 requestedOutputTokens(const QJsonObject &body);
};
