#pragma once

#include "operation.h"

// POST /chat/completions upstream, whole or streamed. A stream always asks for the usage chunk
// (stream_options.include_usage) so tokens are counted; whether the client sees it is its protocol's
// business. Each entry is asked for at most the output it can give (outputCap).
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
    // The most output tokens `entry` is asked for (the entry's maxOutputTokens, else its provider type's
    // default); 0: no limit. A larger max_tokens is clamped to it, and admission reserves the clamped value.
    static int outputCap(const ProviderConfig &provider, const ChainEntry &entry);
};
