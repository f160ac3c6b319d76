#pragma once

#include "apierror.h"
#include "attempt.h"
#include "config.h"
#include "enginerequest.h"
#include "enginesink.h"
#include "operation.h"
#include "requestrecord.h"
#include "streamreader.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <memory>

class RateLimitTracker;
class RequestQueue;
class UpstreamPool;

// The waterfall for one client request: walks the chain's entries in order, asks the limiter to admit each
// (cooldowns, known-empty windows, manual limits, the request's estimated tokens, concurrency slots), tries
// the admitted ones until one answers, and delivers that answer to the sink. When every entry left is held
// only by attempts in flight it waits for one of them to report; when the chain is exhausted in queue mode it
// waits in the queue. A stream is committed to an entry at its first content or tool-call token; before
// that, a 429, an in-band error or a dropped connection fails over with the client seeing nothing. Every
// attempt's answer reaches the limiter through its Attempt, once; the RequestRecord says what happened to
// each entry. What differs between chat completions and embeddings is the Operation's. Owns the sink; deletes
// itself when done.
class Waterfall : public QObject, private StreamReader::Listener
{
    Q_OBJECT

public:
    enum class State {
        Idle,       // not started
        Calling,    // an attempt is in flight; nothing has reached the client yet
        Streaming,  // committed: the client is reading the attempt's stream
        Continuing, // the committed stream broke: the next entry is being asked to continue the same answer
        Waiting,    // every entry left is held by attempts in flight: waiting for one to report
        Queued,     // queue mode: the chain was exhausted; waiting in its queue
        Done,       // answered and recorded
    };
    Q_ENUM(State)

    Waterfall(std::shared_ptr<const Config> config, QString chainName, EngineRequest request,
              EngineSink *sink, RateLimitTracker &tracker, UpstreamPool &pool, RequestQueue *queue = nullptr,
              QObject *parent = nullptr);
    ~Waterfall() override;

    void start();
    // Answers `error` at once without walking the chain (the proxy is paused), recorded like any answer.
    void refuse(const ApiError &error);
    // Ends the request now (shutdown): before anything reached the client it gets a 503 with `code`; a
    // stream ends with that error. Recorded with status 503.
    void abort(const QString &code, const QString &message);
    State state() const { return m_state; }
    bool isDone() const { return m_state == State::Done; }

    // Bytes of unsent client data above which reading upstream pauses.
    static constexpr qint64 kHighWaterBytes = 512 * 1024;

signals:
    void finished(const RequestRecord &record);
    // Every entry of the chain was unusable (cooling down, failing, disabled): the client gets the
    // all_providers_exhausted answer. retryAfterSeconds: when the first entry frees up, 0 if none will by
    // waiting.
    void chainExhausted(const QString &chain, qint64 retryAfterSeconds);

private:
    // The walk.
    void walk();
    QString skipReason(const RateLimitTracker::Admission &admission) const;
    void recordSkip(const ChainEntry &entry, const QString &reason);
    void startAttempt(int index, const ProviderConfig &provider, const ChainEntry &entry, quint64 ticket);
    bool waitForInFlight();
    void walkAgain();
    void restartWalk();
    bool enqueue(const ApiError &error, qint64 retryAtHintMs);
    void retryFromQueue();
    void leaveQueue();

    // One attempt's answer.
    void onCallFinished(UpstreamCall::Failure failure, const QString &errorString);
    void onHttpFailure(int status, const QByteArray &body);
    void onWhole(const QByteArray &body);
    void onStreamData();
    void onStreamFailed(const StreamReader::Failure &failure);
    bool streamCommitted(const QList<StreamPiece> &held) override;
    bool streamPiece(const StreamPiece &piece) override;
    void finishStream();

    // Leaving an attempt.
    void failOver(AttemptRecord::Outcome outcome, int status, const QString &reason, Attempt::Effect effect);
    void failCommitted(const QString &code, ApiError::Kind kind, const QString &message,
                       const std::optional<Attempt::InBandError> &inBand = std::nullopt);
    // The client's stream ends with the first breakage's error (no entry could continue it).
    void endBroken();
    // Continuation: whether this request's broken stream may be continued, asking the next entries for it,
    // and what each continued chunk becomes (the first answer's id and model, no second role, the repeated
    // head cut); nullopt while the head is still being collected.
    bool continuable() const;
    void startContinuation();
    std::optional<StreamPiece> continued(const StreamPiece &piece);
    StreamPiece headPiece(const QString &text) const;
    // A chunk the engine wrote itself, framed as the provider's are.
    static StreamPiece chunkPiece(const QJsonObject &chunk, bool usageOnly = false);
    void noteDelivered(const StreamPiece &piece);
    void setWalking() { m_state = m_begun ? State::Continuing : State::Calling; }
    void dropAttempt();

    // The request's end.
    void answerExhausted();
    qint64 earliestFreeMs() const;
    void deliverFailure(const ApiError &error, const ServedBy &servedBy, const QByteArray &upstreamBody = {});
    // A failure's served-by: no entry named, the entries visited so far.
    ServedBy visited() const;
    void onClientGone();
    void complete(int status, const QString &error = QString());
    ServedBy servedBy(qsizetype attempts) const;
    // The running attempt's tokens: its usage, else the prompt estimate plus what was streamed.
    qint64 streamedTokens() const;
    // Moves the running attempt's stream tokens into the earlier attempts' (before a continuation).
    void settleStreamTokens();
    // Puts the stream's tokens on the record: its usage, or an estimate from the text (flagged).
    void recordStreamTokens();
    void recordTokens(const std::optional<TokenUsage> &usage, qint64 answerCharacters);

    std::shared_ptr<const Config> m_config;
    QString m_chainName;
    EngineRequest m_request;
    const Operation &m_operation;
    QPointer<EngineSink> m_sink;
    RateLimitTracker &m_tracker;
    UpstreamPool &m_pool;
    QPointer<RequestQueue> m_queue;
    State m_state = State::Idle;

    // The walk over the chain's entries.
    int m_nextEntry = 0;
    QSet<int> m_tried;            // entries asked for this request (by index), never asked twice
    QSet<int> m_tooLarge;         // entries that said 413 to this request
    bool m_inFlightBound = false; // this walk skipped an entry only for attempts in flight
    bool m_waitStarted = false;   // the in-flight wait's deadline runs (once per request, or per queue retry)
    bool m_waitOver = false;
    qsizetype m_walkStart = 0; // first attempt record of the current walk
    QTimer m_waitDeadline;
    QMetaObject::Connection m_waitConnection;
    quint64 m_queueTicket = 0; // the queue's ticket while queued or retried from the queue
    bool m_fromQueue = false;  // this walk is a queue retry: the queue's turn passes on when it ends
    struct ClientError
    {
        int status = 0;
        QByteArray body;
    } m_firstClientError; // if every entry says 4xx, the client gets the first one

    // The running attempt.
    Attempt *m_attempt = nullptr;
    StreamReader m_reader;
    bool m_begun = false; // the sink's stream began: the client reads it

    // Continuing a broken stream on the next entry (settings.midStreamContinue).
    struct Continuation
    {
        bool possible = false;       // chat, streamed, one choice, no logprobs, the setting on
        bool toolCalls = false;      // tool-call deltas were delivered: not continuable
        QByteArray deliveredStrings; // the answer's content strings the client has read, still JSON-encoded
        QString delivered;           // their text, decoded when a continuation starts
        QString streamId;            // the first answer's chunk id and model, kept on every chunk
        QString model;
        bool active = false;      // the running attempt continues the answer
        bool headPending = false; // collecting the continuation's first characters to cut what it repeats
        QString head;
        struct Breakage
        {
            QString code;
            ApiError::Kind kind = ApiError::Kind::Server;
            QString message;
        } breakage; // the first one (code set): what the client hears if nobody continues
        // Tokens of the stream attempts before the running one.
        qint64 prompt = 0;
        qint64 completion = 0;
        bool estimated = false;
    } m_cont;
    // Characters of the continuation's head collected before the repeated part is looked for.
    static constexpr int kHeadChars = 48;

    RequestRecord m_record;
    QElapsedTimer m_requestTimer;
};
