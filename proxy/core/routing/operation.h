#pragma once

#include "chatformat.h"
#include "config.h"
#include "enginerequest.h"
#include "upstreamcall.h"

#include <QByteArray>
#include <QString>

#include <optional>

// What is asked of an upstream for one request: the part of the waterfall that differs between a chat
// completion and embeddings. It makes an entry's upstream request (through ProviderKind), says how many
// tokens admission reserves on that entry, and what a whole 2xx answer means. The waterfall does the rest
// (the walk, the limiter, the record); a streamed chat's events are read by StreamReader. Stateless: one
// instance of each serves every request.
class Operation
{
public:
    struct WholeVerdict
    {
        bool ok = false;
        QString problem; // why a 2xx body is not an answer
        std::optional<TokenUsage> usage;
        qint64 answerCharacters = 0; // answer text, for an estimate when usage is missing
        QByteArray body;             // what the client gets (settings.normalizeResponses may rewrite it)
    };

    virtual ~Operation() = default;

    // The prompt estimate and the most the answer may take on this entry: what admission reserves.
    virtual qint64 reservedTokens(const EngineRequest &request, const ProviderConfig &provider,
                                  const ChainEntry &entry) const = 0;
    virtual UpstreamCall::Request upstreamRequest(const EngineRequest &request,
                                                  const ProviderConfig &provider, const ChainEntry &entry,
                                                  const Settings &settings) const = 0;
    virtual WholeVerdict judgeWhole(const QByteArray &body, const Settings &settings) const = 0;

    static const Operation &of(EngineRequest::Operation operation);
};
