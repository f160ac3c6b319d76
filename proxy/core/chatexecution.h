#pragma once

#include "chatrequest.h"
#include "chatsink.h"
#include "config.h"
#include "requestrecord.h"
#include "sseparser.h"
#include "upstreamcall.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include <memory>

class RateLimitTracker;
class UpstreamPool;

// The waterfall for one client request: walks the chain's entries in order, skips those the tracker says are
// cooling down, calls the others until one answers, and relays that answer to the sink. A stream is committed
// to an entry at its first content or tool-call delta; before that, a 429, an in-band error or a dropped
// connection fails over with the client seeing nothing. Owns the sink; deletes itself when done.
class ChatExecution : public QObject
{
    Q_OBJECT

public:
    ChatExecution(std::shared_ptr<const Config> config, QString chainName, ChatRequest request, ChatSink *sink,
                  RateLimitTracker &tracker, UpstreamPool &pool, QObject *parent = nullptr);
    ~ChatExecution() override;

    void start();

    // Bytes of unsent client data above which reading upstream pauses.
    static constexpr qint64 kHighWaterBytes = 512 * 1024;

signals:
    void finished(const RequestRecord &record);
    // Every entry of the chain was unusable (cooling down, failing, disabled): the client gets the
    // all_providers_exhausted answer. retryAfterSeconds: when the first entry frees up, 0 if none will by waiting.
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
    void complete(int status, const QString &error = QString());
    void recordAttempt(AttemptRecord::Outcome outcome, int status, const QString &reason);
    ChatSink::Headers successHeaders(qsizetype attempts) const;
    void writeToClient(const QByteArray &bytes);

    std::shared_ptr<const Config> m_config;
    QString m_chainName;
    ChatRequest m_request;
    QPointer<ChatSink> m_sink;
    RateLimitTracker &m_tracker;
    UpstreamPool &m_pool;

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
