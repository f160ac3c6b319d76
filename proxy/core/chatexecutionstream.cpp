// The streaming half of ChatExecution: reading upstream SSE, holding events back until the first content
// (so a failure before it can still fail over invisibly), relaying after the commit, and ending the stream
// well ([DONE]) or visibly (an error event, no [DONE]).
#include "chatexecution.h"

#include "chatsink.h"
#include "streamchunk.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcRouter)

using Outcome = AttemptRecord::Outcome;

int ChatExecution::inBandStatus(const QByteArray &data)
{
    const QJsonValue code = QJsonDocument::fromJson(data)
                                .object()
                                .value(QLatin1String("error"))
                                .toObject()
                                .value(QLatin1String("code"));
    const int status = code.isDouble() ? code.toInt() : code.toString().toInt();
    return status >= 400 && status <= 599 ? status : 0;
}

qint64 ChatExecution::streamedTokens() const
{
    if (m_record.totalTokens > 0)
        return m_record.totalTokens;
    return m_request.estimatedPromptTokens + ChatRequest::estimateTokens(m_contentChars);
}

void ChatExecution::onStreamData()
{
    // In pieces: a fast upstream may have megabytes buffered, and every piece becomes a list of events; read
    // at once they would all be in memory together, for each stream.
    constexpr qint64 kPieceBytes = 64 * 1024;
    while (m_call && !m_done) {
        const QByteArray bytes = m_call->readAvailable(kPieceBytes);
        if (bytes.isEmpty())
            return;
        m_events.clear();
        m_parser.feed(bytes, m_events);
        if (m_parser.overflowed()) {
            const QString reason = QStringLiteral("stream event larger than the parser's limit");
            if (m_committed)
                failAfterCommit(QStringLiteral("stream_error"), reason);
            else
                failAttempt(Outcome::StreamError, m_call->status(), reason);
            return;
        }
        const UpstreamCall *call = m_call;
        for (const auto &event : std::as_const(m_events)) {
            handleEvent(event);
            if (m_call != call || m_done)
                return; // failed over or finished while handling
        }
        if (m_committed && m_call && m_sink && m_sink->pendingBytes() > kHighWaterBytes) {
            m_call->setPaused(true);
            return;
        }
    }
}

void ChatExecution::handleEvent(const SseEvent &event)
{
    if (!QUtf8StringView(event.data).isValidUtf8() || !QUtf8StringView(event.comment).isValidUtf8()) {
        // Invalid UTF-8 from upstream never reaches a client's JSON decoder: bad sequences become U+FFFD.
        SseEvent repaired = event;
        repaired.data = QString::fromUtf8(event.data).toUtf8();
        repaired.comment = QString::fromUtf8(event.comment).toUtf8();
        handleEvent(repaired);
        return;
    }
    if (event.kind == SseEvent::Kind::Comment) {
        if (m_committed)
            writeToClient(event.serialize()); // keep-alives reach the client
        return;
    }
    if (event.isDone()) {
        m_sawDone = true;
        if (!m_committed)
            commitStream(); // an empty answer is still an answer
        finishStream();
        return;
    }
    const bool namedError = event.event == "error";
    // After commit only chunks that may carry usage or an error are parsed; the rest are relayed as they are.
    const bool mustParse =
        !m_committed || namedError || event.data.contains("\"usage\"") || event.data.contains("\"error\"") ||
        (m_config->settings.normalizeResponses && event.data.contains("reasoning_content"));
    StreamChunk::Info info;
    if (mustParse)
        info = StreamChunk::inspect(event.data, m_config->settings.normalizeResponses);
    if (namedError || info.hasError) {
        const QString message =
            info.errorMessage.isEmpty() ? QString::fromUtf8(event.data.left(200)) : info.errorMessage;
        // An in-band error with an HTTP-like code (OpenRouter's 429 "free-models-per-day" chunk) is a limit
        // signal like any other answer.
        const int code = inBandStatus(event.data);
        if (m_committed) {
            if (code >= 400)
                feedTracker(code, event.data, message);
            failAfterCommit(QStringLiteral("stream_error"),
                            QStringLiteral("Stream error from provider: %1").arg(message));
        } else if (code >= 400) {
            const RateLimitTracker::AnswerEffect effect = feedTracker(code, event.data, message);
            m_observed = true;
            const QString reason = QStringLiteral("in-band error before first token: %1").arg(effect.reason);
            failAttempt(code == 429 || code == 402 ? Outcome::RateLimited : Outcome::StreamError, 200,
                        reason);
        } else {
            const QString reason = QStringLiteral("in-band error before first token: %1").arg(message);
            m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
            failAttempt(Outcome::StreamError, 200, reason);
        }
        return;
    }
    if (info.usage) {
        m_record.promptTokens = info.usage->prompt;
        m_record.completionTokens = info.usage->completion;
        m_record.totalTokens = info.usage->total;
        m_record.tokensEstimated = false;
    }
    if (info.usageOnly && !m_request.clientWantsUsage)
        return;
    m_contentChars += StreamChunk::contentCharacters(event.data);
    QByteArray framed =
        info.rewritten.isEmpty()
            ? event.serialize()
            : SseEvent{SseEvent::Kind::Data, event.event, info.rewritten, event.id, {}}.serialize();
    if (!m_committed) {
        m_pending += framed;
        if (info.hasContent || info.finished) {
            commitStream();
        } else if (m_pending.size() > kMaxPendingBytes) {
            // Held back events are memory the client never sees: a stream that only chatters fails over.
            const QString reason = QStringLiteral("stream sent no content within 1 MiB");
            m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
            failAttempt(Outcome::StreamError, m_call ? m_call->status() : 200, reason);
        }
        return;
    }
    writeToClient(framed);
}

void ChatExecution::commitStream()
{
    if (m_committed)
        return;
    m_committed = true;
    m_record.firstTokenMs = m_requestTimer.elapsed();
    m_record.provider = m_entry->provider;
    m_record.model = m_entry->model;
    observeAnswer(m_call ? m_call->status() : 200, QByteArray(), QString());
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << "committed to"
                                << m_entry->provider + QLatin1Char('/') + m_entry->model;
    if (m_sink)
        m_sink->beginEventStream(successHeaders(m_record.attempts.size() + 1));
    writeToClient(std::exchange(m_pending, QByteArray()));
}

void ChatExecution::writeToClient(const QByteArray &bytes)
{
    if (m_sink && !bytes.isEmpty())
        m_sink->writeEvents(bytes);
}

void ChatExecution::finishStream()
{
    writeToClient(QByteArrayLiteral("data: [DONE]\n\n"));
    if (m_sink)
        m_sink->endEventStream();
    recordAttempt(Outcome::Success, 200, QStringLiteral("ok"));
    m_tracker.recordSuccess(m_entry->provider, m_entry->model);
    if (m_record.totalTokens == 0) {
        recordEstimatedTokens(m_contentChars);
    }
    endAttempt(m_record.totalTokens);
    dropCall();
    complete(200);
}

void ChatExecution::failAfterCommit(const QString &code, const QString &message)
{
    // No [DONE]: a client must not mistake a truncated answer for a complete one.
    ApiError error{502, message, QStringLiteral("server_error"), code, {}, -1};
    writeToClient(error.toSseEvent());
    if (m_sink)
        m_sink->endEventStream();
    recordAttempt(Outcome::StreamError, 200, message);
    m_tracker.recordMidStreamFailure(m_entry->provider, m_entry->model, message);
    if (m_record.totalTokens == 0) {
        // No usage came before the failure: what was read and streamed, estimated.
        recordEstimatedTokens(m_contentChars);
    }
    endAttempt(streamedTokens());
    dropCall();
    qCWarning(lcRouter).noquote() << "chain" << m_chainName << "stream failed after commit:" << message;
    complete(code == QLatin1String("stream_idle_timeout") ? 504 : 502, message);
}
