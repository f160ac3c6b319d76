#pragma once

#include "chatformat.h"
#include "enginesink.h"
#include "sseparser.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

// Reads one attempt's upstream event stream (the engine's format) and says what each event means for the
// request: events are held back until the first content or tool-call token (so a failure before it can still
// fail over with the client seeing nothing), then committed and relayed as they come; [DONE] ends the stream
// well; an error event, a broken event or a stream that only chatters fails it. It repairs invalid UTF-8,
// applies settings.normalizeResponses and notes usage and the answer's length on the way. It knows nothing of
// the client, the chain or the limiter: the Waterfall acts on what it says.
class StreamReader
{
public:
    // Why a stream failed, as facts; the Waterfall decides what that means before and after the commit.
    struct Failure
    {
        enum class Kind {
            Broken,      // an event larger than the parser's limit
            InBandError, // an error event (named `error`, an `error` field, finish_reason "error")
            Chatter,     // no content within kMaxHeldBytes of held-back events
        };
        Kind kind = Kind::Broken;
        QString message;
        int inBandStatus = 0;  // the error's HTTP-like code (`error.code` 429, "502"), 0 if it has none
        QByteArray inBandBody; // the error event's data
    };

    // Where committed events go. Each returns false when the request stopped meanwhile (the client left):
    // the reader then reads no further.
    class Listener
    {
    public:
        virtual ~Listener() = default;
        // The first content arrived: `held` is everything held back until now, in order.
        virtual bool streamCommitted(const QList<StreamPiece> &held) = 0;
        virtual bool streamPiece(const StreamPiece &piece) = 0;
    };

    enum class Result { Reading, Done, Failed, Stopped };

    // Held-back events before the first content above which the attempt fails over.
    static constexpr qint64 kMaxHeldBytes = 1024 * 1024;

    StreamReader(Listener &listener, bool normalizeResponses);

    // Reads `bytes`: Reading (more to come), Done ([DONE] seen, committed), Failed (`*failure` says why) or
    // Stopped (a listener said so). After anything but Reading, feed no more until reset().
    Result feed(QByteArrayView bytes, Failure *failure);
    void reset();

    bool isCommitted() const { return m_committed; }
    bool sawDone() const { return m_sawDone; }
    // The last usage the stream reported (OpenAI `usage`, Groq `x_groq.usage`).
    std::optional<TokenUsage> usage() const { return m_usage; }
    // Characters of answer text relayed so far, for an estimate when the stream brings no usage.
    qint64 contentCharacters() const { return m_contentChars; }

    // The HTTP-like code of an in-band error event (`error.code` 429, "502"), 0 if it has none.
    static int inBandStatus(const QByteArray &data);

private:
    Result handle(const SseEvent &event, Failure *failure);

    Listener &m_listener;
    bool m_normalize;
    SseParser m_parser;
    QList<SseEvent> m_events;
    QList<StreamPiece> m_held;
    qint64 m_heldBytes = 0;
    bool m_committed = false;
    bool m_sawDone = false;
    std::optional<TokenUsage> m_usage;
    qint64 m_contentChars = 0;
};
