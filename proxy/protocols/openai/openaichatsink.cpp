#include "openaichatsink.h"

#include "openaierror.h"

#include <QJsonDocument>
#include <QJsonObject>

OpenAiChatSink::OpenAiChatSink(ClientTransport *transport, bool clientWantsUsage, QObject *parent)
    : ProtocolSink(transport, parent), m_clientWantsUsage(clientWantsUsage)
{
}

void OpenAiChatSink::whole(const WholeAnswer &answer)
{
    if (auto *t = transport())
        t->sendWhole(200, answer.body, servedHeaders(answer.servedBy));
}

void OpenAiChatSink::begin(const ServedBy &servedBy)
{
    m_streaming = true;
    if (auto *t = transport())
        t->beginStream(200, servedHeaders(servedBy));
}

void OpenAiChatSink::chunk(const StreamPiece &piece)
{
    if (piece.usageOnly() && !m_clientWantsUsage)
        return;
    if (auto *t = transport())
        t->writeChunk(piece.raw());
}

void OpenAiChatSink::done()
{
    if (auto *t = transport()) {
        t->writeChunk(QByteArrayLiteral("data: [DONE]\n\n"));
        t->endStream();
    }
}

void OpenAiChatSink::fail(const EngineFailure &failure)
{
    auto *t = transport();
    if (!t)
        return;
    if (m_streaming) {
        t->writeChunk(OpenAiError::sseEvent(failure.error));
        t->endStream();
        return;
    }
    t->sendWhole(failure.error.status, errorBody(failure), failureHeaders(failure));
}

QByteArray OpenAiChatSink::errorBody(const EngineFailure &failure)
{
    if (!failure.upstreamBody.isEmpty() &&
        QJsonDocument::fromJson(failure.upstreamBody).object().value(QLatin1String("error")).isObject())
        return failure.upstreamBody;
    return OpenAiError::json(failure.error);
}
