#pragma once

#include "chatrequest.h"
#include "chatsink.h"
#include "config.h"
#include "ratelimittracker.h"
#include "requestrecord.h"
#include "sseparser.h"
#include "upstreamcall.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <memory>

class RequestQueue;
class UpstreamPool;

// The waterfall for one client request: walks the chain's entries in order, asks the tracker to admit each
// (cooldowns, known-empty windows, manual limits, the request's estimated tokens, concurrency slots), calls
// the admitted ones until one answers, and relays that answer to the sink. Every answer's limit signal goes
// to the tracker, and every attempt's reservation is released however it ends. A stream is committed to an
// entry at its first content or tool-call delta; before that, a 429, an in-band error or a dropped connection
// fails over with the client seeing nothing. Owns the sink; deletes itself when done.
class ChatExecution : public QObject
{
    Q_OBJECT

public:
    ChatExecution(std::shared_ptr<const Config> config, QString chainName, ChatRequest request,
                  ChatSink *sink, RateLimitTracker &tracker, UpstreamPool &pool,
                  RequestQueue *queue = nullptr, QObject *parent = nullptr);
    ~ChatExecution() override;

    void start();
    // Ends the request now (shutdown): before commit the client gets a 503 with `code`, after it an error
    // event with `code` and no [DONE]. The request is recorded (finished) with status 503.
    void abort(const QString &code, const QString &message);
    bool isDone() const { return m_done; }

    // Bytes of unsent client data above which reading upstream pauses.
    static constexpr qint64 kHighWaterBytes = 512 * 1024;
    // Stream events held back before the first content above which the attempt fails over.
    static constexpr qint64 kMaxPendingBytes = 1024 * 1024;

signals:
    void finished(const RequestRecord &record);
    // Every entry of the chain was unusable (cooling down, failing, disabled): the client gets the
    // all_providers_exhausted answer. retryAfterSeconds: when the first entry frees up, 0 if none will by
    // waiting.
    void chainExhausted(const QString &chain, qint64 retryAfterSeconds);

private:
    void tryNext();
    void startAttempt(const ProviderConfig &provider, const ChainEntry &entry);
    UpstreamCall::Request buildRequest(const ProviderConfig &provider, const ChainEntry &entry) const;
    void onCallFinished(UpstreamCall::Failure failure, const QString &errorString);
    void onStreamData();
    void handleEvent(const SseEvent &event);
    void handleHttpFailure(int status, const QByteArray &body);
    void failAttempt(AttemptRecord::Outcome outcome, int status, const QString &reason);
    void succeedWhole(const QByteArray &body);
    void commitStream();
    void failAfterCommit(const QString &code, const QString &message);
    void finishStream();
    void answerAllFailed();
    void onClientGone();
    // A request waiting in (or retried from) the queue leaves it, so the queue passes the turn on.
    void leaveQueue();
    // No usage came: the prompt estimate and `completionChars` of answer text, flagged as estimated.
    void recordEstimatedTokens(qint64 completionChars);
    // Stops and forgets the running upstream call, if any.
    void dropCall();
    void complete(int status, const QString &error = QString());
    void recordAttempt(AttemptRecord::Outcome outcome, int status, const QString &reason);
    ChatSink::Headers successHeaders(qsizetype attempts) const;
    void writeToClient(const QByteArray &bytes);
    // Feeds this attempt's answer (headers, and the body of an error) to the tracker, once per attempt.
    RateLimitTracker::AnswerEffect observeAnswer(int status, const QByteArray &body, const QString &message);
    RateLimitTracker::AnswerEffect feedTracker(int status, const QByteArray &body, const QString &message);
    // The HTTP-like code of an in-band error event (`error.code` 429, "502"), 0 if it has none.
    static int inBandStatus(const QByteArray &data);
    // Gives the attempt's reservation back: tokens really used, or < 0 to keep the reservation.
    void endAttempt(qint64 tokensUsed);
    qint64 streamedTokens() const;
    // Every entry left is held only by attempts in flight that have not reported back: wait (bounded by
    // the request timeout) for one to report, then walk the chain again. False when the wait is over.
    bool waitForInFlight();
    void walkAgain();
    // Queue mode: hold the request in the queue instead of answering `error` (an exhaustion). True when
    // the queue took it (or answered it itself).
    bool enqueue(const ApiError &error, qint64 retryAtHintMs);
    void retryFromQueue();

    std::shared_ptr<const Config> m_config;
    QString m_chainName;
    ChatRequest m_request;
    QPointer<ChatSink> m_sink;
    RateLimitTracker &m_tracker;
    QPointer<RateLimitTracker> m_trackerAlive; // the engine may go first at shutdown
    UpstreamPool &m_pool;
    QPointer<RequestQueue> m_queue;
    quint64 m_queueTicket = 0;    // the queue's ticket while queued or retried from the queue
    bool m_queued = false;        // waiting in the queue (no walk running)
    bool m_fromQueue = false;     // a queue retry is this request's walk: drainNext when it ends
    qint64 m_estimatedTokens = 0; // prompt estimate + max_tokens: what admission reserves
    quint64 m_ticket = 0;         // the running attempt's reservation
    bool m_observed = false;      // the running attempt's answer went to the tracker
    QSet<int> m_tried;            // entries asked for this request (by index), never asked twice
    QSet<int> m_tooLarge;         // entries that said 413 to this request
    bool m_inFlightBound = false; // this walk skipped an entry only for attempts in flight
    bool m_waiting = false;
    bool m_waitStarted = false;
    bool m_waitOver = false;
    qsizetype m_walkStart = 0; // first attempt record of the current walk
    QTimer m_waitDeadline;
    QMetaObject::Connection m_waitConnection;

    int m_nextEntry = 0;
    const ProviderConfig *m_provider = nullptr;
    const ChainEntry *m_entry = nullptr;
    UpstreamCall *m_call = nullptr;
    SseParser m_parser;
    QList<SseEvent> m_events;
    QByteArray m_pending; // stream events held back until commit
    bool m_committed = false;
    bool m_sawDone = false;
    bool m_done = false;
    qint64 m_contentChars = 0; // streamed answer text, for a token estimate when usage is missing
    struct ClientError
    {
        int status = 0;
        QByteArray body;
    } m_firstClientError;

    RequestRecord m_record;
    QElapsedTimer m_requestTimer;
    QElapsedTimer m_attemptTimer;
};
