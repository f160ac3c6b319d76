#include "streamreader.h"

#include "streamchunk.h"

#include <QJsonDocument>
#include <QJsonObject>

StreamReader::StreamReader(Listener &listener, bool normalizeResponses)
    : m_listener(listener), m_normalize(normalizeResponses)
{
}

void StreamReader::reset()
{
    m_parser.reset();
    m_events.clear();
    m_held.clear();
    m_heldBytes = 0;
    m_committed = false;
    m_sawDone = false;
    m_usage.reset();
    m_contentChars = 0;
}

int StreamReader::inBandStatus(const QByteArray &data)
{
    const QJsonValue code = QJsonDocument::fromJson(data)
                                .object()
                                .value(QLatin1String("error"))
                                .toObject()
                                .value(QLatin1String("code"));
    const int status = code.isDouble() ? code.toInt() : code.toString().toInt();
    return status >= 400 && status <= 599 ? status : 0;
}

StreamReader::Result StreamReader::feed(QByteArrayView bytes, Failure *failure)
{
    m_events.clear();
    m_parser.feed(bytes, m_events);
    if (m_parser.overflowed()) {
        failure->kind = Failure::Kind::Broken;
        failure->message = QStringLiteral("stream event larger than the parser's limit");
        return Result::Failed;
    }
    // The events are moved out: a listener may reset() this reader for the next attempt before it returns.
    const QList<SseEvent> events = std::exchange(m_events, {});
    for (const auto &event : events) {
        const Result result = handle(event, failure);
        if (result != Result::Reading)
            return result;
    }
    return Result::Reading;
}

StreamReader::Result StreamReader::handle(const SseEvent &original, Failure *failure)
{
    SseEvent event = original;
    if (!QUtf8StringView(event.data).isValidUtf8() || !QUtf8StringView(event.comment).isValidUtf8()) {
        // Invalid UTF-8 from upstream never reaches a client's JSON decoder: bad sequences become U+FFFD.
        event.data = QString::fromUtf8(event.data).toUtf8();
        event.comment = QString::fromUtf8(event.comment).toUtf8();
    }
    if (event.kind == SseEvent::Kind::Comment) {
        if (!m_committed)
            return Result::Reading; // keep-alives before the first token are nobody's business
        return m_listener.streamPiece(StreamPiece(StreamPiece::Kind::KeepAlive, event.serialize(), {}))
                   ? Result::Reading
                   : Result::Stopped;
    }
    if (event.isDone()) {
        m_sawDone = true;
        if (!m_committed) { // an empty answer is still an answer
            m_committed = true;
            if (!m_listener.streamCommitted(std::exchange(m_held, {})))
                return Result::Stopped;
        }
        return Result::Done;
    }
    const bool namedError = event.event == "error";
    // After commit only chunks that may carry usage or an error are parsed; the rest are relayed as they are.
    const bool mustParse = !m_committed || namedError || event.data.contains("\"usage\"") ||
                           event.data.contains("\"error\"") ||
                           (m_normalize && event.data.contains("reasoning_content"));
    StreamChunk::Info info;
    if (mustParse)
        info = StreamChunk::inspect(event.data, m_normalize);
    if (namedError || info.hasError) {
        failure->kind = Failure::Kind::InBandError;
        failure->message =
            info.errorMessage.isEmpty() ? QString::fromUtf8(event.data.left(200)) : info.errorMessage;
        failure->inBandStatus = inBandStatus(event.data);
        failure->inBandBody = event.data;
        return Result::Failed;
    }
    if (info.usage)
        m_usage = info.usage;
    m_contentChars += StreamChunk::contentCharacters(event.data);
    if (!info.rewritten.isEmpty())
        event.data = info.rewritten;
    StreamPiece piece(StreamPiece::Kind::Chunk, event.serialize(), event.data, info.usageOnly);
    if (m_committed)
        return m_listener.streamPiece(piece) ? Result::Reading : Result::Stopped;
    m_heldBytes += piece.raw().size();
    m_held.append(std::move(piece));
    if (info.hasContent || info.finished) {
        m_committed = true;
        return m_listener.streamCommitted(std::exchange(m_held, {})) ? Result::Reading : Result::Stopped;
    }
    if (m_heldBytes > kMaxHeldBytes) {
        // Held back events are memory the client never sees: a stream that only chatters fails over.
        failure->kind = Failure::Kind::Chatter;
        failure->message = QStringLiteral("stream sent no content within 1 MiB");
        return Result::Failed;
    }
    return Result::Reading;
}
