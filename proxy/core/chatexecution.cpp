#include "chatexecution.h"

#include "chatsink.h"
#include "limithints.h"
#include "providerkind.h"
#include "ratelimittracker.h"
#include "requestqueue.h"
#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcRouter, "chain.router")

using Outcome = AttemptRecord::Outcome;

ChatExecution::ChatExecution(std::shared_ptr<const Config> config, QString chainName, ChatRequest request,
                             ChatSink *sink, RateLimitTracker &tracker, UpstreamPool &pool,
                             RequestQueue *queue, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_chainName(std::move(chainName))
    , m_request(std::move(request))
    , m_sink(sink)
    , m_tracker(tracker)
    , m_trackerAlive(&tracker)
    , m_pool(pool)
    , m_queue(queue)
{
    sink->setParent(this);
    connect(sink, &ChatSink::clientGone, this, &ChatExecution::onClientGone);
    connect(sink, &ChatSink::drained, this, [this] {
        if (m_call)
            m_call->setPaused(false);
    });
    m_record.chain = m_chainName;
    m_record.stream = m_request.stream;
    m_record.startedAtMs = m_tracker.clock().nowMs();
    // Tokens stay 0 until an upstream answers: usage when it says, an estimate (flagged) when it does not.
    m_record.clientKeyLabel = m_request.clientKeyLabel;
    // What admission reserves: the prompt plus the most the answer may take (providers count it too).
    const qint64 maxTokens = qMax(m_request.body.value(QLatin1String("max_tokens")).toInteger(),
                                  m_request.body.value(QLatin1String("max_completion_tokens")).toInteger());
    m_estimatedTokens = m_request.estimatedPromptTokens + qMax<qint64>(0, maxTokens);
    m_waitDeadline.setSingleShot(true);
    connect(&m_waitDeadline, &QTimer::timeout, this, [this] {
        m_waitOver = true;
        if (m_waiting)
            walkAgain();
    });
}

ChatExecution::~ChatExecution()
{
    endAttempt(-1);
    delete m_call;
}

void ChatExecution::start()
{
    m_requestTimer.start();
    tryNext();
}

void ChatExecution::tryNext()
{
    const ChainConfig *chain = m_config->chain(m_chainName);
    const int count = chain ? int(chain->entries.size()) : 0;
    while (!m_done && m_nextEntry < count) {
        const int index = m_nextEntry++;
        const ChainEntry &entry = chain->entries.at(index);
        const ProviderConfig *provider = m_config->provider(entry.provider);
        if (m_tried.contains(index))
            continue; // asked in an earlier walk of this request: its attempt is on record
        m_entry = &entry;
        m_provider = provider;
        if (!provider || !provider->enabled) {
            recordAttempt(Outcome::Skipped, 0, QStringLiteral("skipped (provider disabled)"));
            continue;
        }
        if (m_tooLarge.contains(index)) {
            recordAttempt(Outcome::Skipped, 0, QStringLiteral("skipped (request too large for this tier)"));
            continue;
        }
        const RateLimitTracker::Admission admission =
            m_tracker.admit(entry.provider, entry.model, m_estimatedTokens);
        if (!admission.allowed()) {
            m_inFlightBound = m_inFlightBound || admission.inFlightBound;
            const qint64 left = (admission.freesAtMs - m_tracker.clock().nowMs() + 999) / 1000;
            QString reason;
            if (admission.block == RateLimitTracker::Admission::Block::Cooldown)
                reason = admission.freesAtMs > 0
                             ? QStringLiteral("skipped (on cooldown %1s: %2)").arg(left).arg(admission.reason)
                             : QStringLiteral("skipped (on cooldown: %1)").arg(admission.reason);
            else
                reason = admission.freesAtMs > 0
                             ? QStringLiteral("skipped (%1; frees in %2s)").arg(admission.reason).arg(left)
                             : QStringLiteral("skipped (%1)").arg(admission.reason);
            recordAttempt(Outcome::Skipped, 0, reason);
            continue;
        }
        m_ticket = admission.ticket;
        m_tried.insert(index);
        startAttempt(*provider, entry);
        return;
    }
    if (m_done || (m_inFlightBound && waitForInFlight()))
        return;
    answerAllFailed();
}

bool ChatExecution::waitForInFlight()
{
    if (m_waitOver)
        return false;
    if (!m_waitStarted) {
        m_waitStarted = true;
        m_waitDeadline.start(
            int(std::clamp<qint64>(m_config->settings.requestTimeoutMs, 1, 24 * 3600 * 1000)));
    }
    // This walk's skips say nothing final; the next walk records its own.
    for (qsizetype i = m_record.attempts.size() - 1; i >= m_walkStart; --i) {
        if (m_record.attempts.at(i).outcome == Outcome::Skipped)
            m_record.attempts.removeAt(i);
    }
    m_waiting = true;
    m_waitConnection = connect(&m_tracker, &RateLimitTracker::entryFreed, this, &ChatExecution::walkAgain,
                               Qt::QueuedConnection);
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << ": waiting for attempts in flight to report";
    return true;
}

bool ChatExecution::enqueue(const ApiError &error, qint64 retryAtHintMs)
{
    if (!m_queue || !m_config->settings.queueMode || error.status != 429)
        return false;
    emit chainExhausted(m_chainName, error.retryAfterSeconds);
    m_queued = true;
    m_fromQueue = true;
    const quint64 ticket = m_queue->enqueue(
        m_chainName, this, [this] { retryFromQueue(); },
        [this](const ApiError &queueError) {
            // The queue answered (timeout, full, shutdown): it has already forgotten the request.
            m_queued = false;
            m_fromQueue = false;
            m_queueTicket = 0;
            ChatSink::Headers headers{
                {QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(m_record.attempts.size())}};
            if (queueError.retryAfterSeconds > 0)
                headers.append(
                    {QByteArrayLiteral("Retry-After"), QByteArray::number(queueError.retryAfterSeconds)});
            if (m_sink)
                m_sink->sendJson(queueError.status, queueError.toJson(), headers);
            qCWarning(lcRouter).noquote() << queueError.message;
            complete(queueError.status, queueError.message);
        },
        retryAtHintMs);
    if (ticket != 0) {
        m_queueTicket = ticket;
        qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": exhausted, request queued";
    }
    return true;
}

void ChatExecution::retryFromQueue()
{
    if (m_done || !m_queued)
        return;
    m_queued = false;
    // A new walk from the first entry; the attempts so far stay on the one record.
    m_tried.clear();
    m_firstClientError = {};
    m_nextEntry = 0;
    m_inFlightBound = false;
    m_waitStarted = false;
    m_waitOver = false;
    m_walkStart = m_record.attempts.size();
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << ": retrying queued request";
    tryNext();
}

void ChatExecution::walkAgain()
{
    if (!m_waiting || m_done)
        return;
    m_waiting = false;
    disconnect(m_waitConnection);
    m_nextEntry = 0;
    m_inFlightBound = false;
    m_walkStart = m_record.attempts.size();
    tryNext();
}

UpstreamCall::Request ChatExecution::buildRequest(const ProviderConfig &provider,
                                                  const ChainEntry &entry) const
{
    QJsonObject body = m_request.body;
    body.insert(QLatin1String("model"), entry.model);
    if (m_request.stream) {
        QJsonObject options = body.value(QLatin1String("stream_options")).toObject();
        options.insert(QLatin1String("include_usage"), true);
        body.insert(QLatin1String("stream_options"), options);
    }
    ProviderKind::adaptBody(provider.type, entry.model, body);

    QString base =
        provider.baseUrl.isEmpty() ? ProviderKind::defaultBaseUrl(provider.type) : provider.baseUrl;
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);

    UpstreamCall::Request req;
    req.url = QUrl(base + QLatin1String("/chat/completions"));
    req.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    req.stream = m_request.stream;
    req.timeoutMs = provider.timeoutMs.value_or(m_config->settings.requestTimeoutMs);
    req.idleTimeoutMs = m_config->settings.streamIdleTimeoutMs;
    if (!provider.apiKey.isEmpty())
        req.headers.append({QByteArrayLiteral("Authorization"), "Bearer " + provider.apiKey.toUtf8()});
    req.headers += ProviderKind::extraHeaders(provider.type);
    req.headers += provider.headers;
    return req;
}

void ChatExecution::startAttempt(const ProviderConfig &provider, const ChainEntry &entry)
{
    m_parser.reset();
    m_pending.clear();
    m_sawDone = false;
    m_observed = false;
    m_attemptTimer.start();
    m_call = new UpstreamCall(m_pool, buildRequest(provider, entry), this);
    connect(m_call, &UpstreamCall::finished, this, &ChatExecution::onCallFinished);
    if (m_request.stream)
        connect(m_call, &UpstreamCall::dataAvailable, this, &ChatExecution::onStreamData);
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << "trying"
                                << entry.provider + QLatin1Char('/') + entry.model;
    m_call->start();
}

void ChatExecution::recordAttempt(Outcome outcome, int status, const QString &reason)
{
    AttemptRecord a;
    a.provider = m_entry ? m_entry->provider : QString();
    a.model = m_entry ? m_entry->model : QString();
    a.outcome = outcome;
    a.status = status;
    a.latencyMs = outcome == Outcome::Skipped ? 0 : m_attemptTimer.elapsed();
    a.reason = reason;
    m_record.attempts.append(a);
}

void ChatExecution::onCallFinished(UpstreamCall::Failure failure, const QString &errorString)
{
    UpstreamCall *call = m_call;
    if (!call)
        return;
    const int status = call->status();
    if (failure == UpstreamCall::Failure::Timeout) {
        failAttempt(Outcome::Timeout, 0, errorString);
    } else if (failure == UpstreamCall::Failure::IdleTimeout) {
        if (m_committed)
            failAfterCommit(QStringLiteral("stream_idle_timeout"),
                            QStringLiteral("Stream idle timeout: no data received for %1ms from %2/%3")
                                .arg(m_config->settings.streamIdleTimeoutMs)
                                .arg(m_entry->provider, m_entry->model));
        else
            failAttempt(Outcome::Timeout, status,
                        QStringLiteral("stream idle before first token (%1)").arg(errorString));
    } else if (failure == UpstreamCall::Failure::Network || failure == UpstreamCall::Failure::TooLarge) {
        if (m_committed)
            failAfterCommit(QStringLiteral("stream_error"),
                            QStringLiteral("Stream error from provider: %1").arg(errorString));
        else
            failAttempt(Outcome::NetworkError, status, errorString);
    } else if (status < 200 || status >= 300) {
        handleHttpFailure(status, call->takeBody());
    } else if (!m_request.stream) {
        succeedWhole(call->takeBody());
    } else if (!m_done) {
        // The upstream closed the stream; it ends well only with [DONE].
        if (m_committed && !m_sawDone)
            failAfterCommit(QStringLiteral("stream_error"),
                            QStringLiteral("Stream from %1/%2 ended before [DONE]")
                                .arg(m_entry->provider, m_entry->model));
        else if (!m_committed)
            failAttempt(Outcome::NetworkError, status, QStringLiteral("stream ended before the first token"));
    }
}

void ChatExecution::handleHttpFailure(int status, const QByteArray &body)
{
    // The tracker decides what the answer means for the entry (cooldowns, windows, escalation).
    const RateLimitTracker::AnswerEffect effect =
        observeAnswer(status, body, StreamChunk::errorMessage(body));
    if (status == 429 || status == 402) {
        failAttempt(Outcome::RateLimited, status, effect.reason);
    } else if (status == 401 || status == 403) {
        failAttempt(Outcome::ClientError, status, effect.reason);
    } else if (status >= 400 && status < 500) {
        if (effect.skipThisRequest)
            m_tooLarge.insert(m_nextEntry - 1);
        if (m_firstClientError.status == 0)
            m_firstClientError = {status, body}; // if every entry says 4xx, the client gets the first one
        failAttempt(Outcome::ClientError, status, effect.reason);
    } else {
        failAttempt(Outcome::ServerError, status, effect.reason);
    }
}

RateLimitTracker::AnswerEffect ChatExecution::observeAnswer(int status, const QByteArray &body,
                                                            const QString &message)
{
    if (m_observed)
        return {};
    m_observed = true;
    return feedTracker(status, body, message);
}

RateLimitTracker::AnswerEffect ChatExecution::feedTracker(int status, const QByteArray &body,
                                                          const QString &message)
{
    if (!m_call || !m_provider || !m_entry)
        return {};
    const LimitSignal signal =
        LimitParsing::parse(m_provider->type, status, m_call->headers(), body, m_tracker.clock().nowMs());
    return m_tracker.recordAnswer(m_entry->provider, m_entry->model, status, signal, message, m_ticket);
}

void ChatExecution::endAttempt(qint64 tokensUsed)
{
    if (m_ticket != 0 && m_trackerAlive)
        m_tracker.release(m_ticket, tokensUsed);
    m_ticket = 0;
}

void ChatExecution::failAttempt(Outcome outcome, int status, const QString &reason)
{
    recordAttempt(outcome, status, reason);
    if (status >= 200 && status < 300)
        observeAnswer(status, QByteArray(), QString()); // a failed stream's headers still tell the quota
    if (outcome == Outcome::Timeout || outcome == Outcome::NetworkError)
        m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
    // A refused request used nothing; one that reached the model (a 2xx that failed later) read the prompt.
    endAttempt(status >= 200 && status < 300 ? m_request.estimatedPromptTokens : 0);
    m_pending.clear();
    // A usage chunk held back from the failed attempt is not this request's answer.
    m_record.promptTokens = m_record.completionTokens = m_record.totalTokens = 0;
    m_record.tokensEstimated = false;
    m_contentChars = 0;
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ':'
                               << m_entry->provider + QLatin1Char('/') + m_entry->model << "failed:" << reason
                               << "-> waterfalling";
    dropCall();
    tryNext();
}

void ChatExecution::succeedWhole(const QByteArray &body)
{
    QJsonObject obj = QJsonDocument::fromJson(body).object();
    if (obj.isEmpty() || (obj.contains(QLatin1String("error")) && !obj.contains(QLatin1String("choices")))) {
        // Some providers answer 200 with an error body.
        const QString reason =
            QStringLiteral("200 with an error body: %1").arg(StreamChunk::errorMessage(body));
        m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
        failAttempt(Outcome::ServerError, 200, reason);
        return;
    }
    recordAttempt(Outcome::Success, 200, QStringLiteral("ok"));
    observeAnswer(200, QByteArray(), QString());
    m_tracker.recordSuccess(m_entry->provider, m_entry->model);
    if (const auto usage = StreamChunk::usageOf(obj)) {
        m_record.promptTokens = usage->prompt;
        m_record.completionTokens = usage->completion;
        m_record.totalTokens = usage->total;
    } else {
        qint64 chars = 0;
        for (const auto &c : obj.value(QLatin1String("choices")).toArray())
            chars += c.toObject()
                         .value(QLatin1String("message"))
                         .toObject()
                         .value(QLatin1String("content"))
                         .toString()
                         .size();
        recordEstimatedTokens(chars);
    }
    endAttempt(m_record.totalTokens);
    QByteArray out = body;
    if (m_config->settings.normalizeResponses && StreamChunk::normalizeReasoning(obj))
        out = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    if (m_sink)
        m_sink->sendJson(200, out, successHeaders(m_record.attempts.size()));
    m_record.provider = m_entry->provider;
    m_record.model = m_entry->model;
    complete(200);
}

void ChatExecution::answerAllFailed()
{
    QStringList tried;
    bool allClientErrors = !m_record.attempts.isEmpty();
    bool transient = false;
    for (const auto &a : std::as_const(m_record.attempts)) {
        tried << a.describe();
        if (a.outcome != Outcome::ClientError || a.status == 401 || a.status == 403)
            allClientErrors = false;
        if (a.outcome == Outcome::ServerError || a.outcome == Outcome::Timeout ||
            a.outcome == Outcome::NetworkError || a.outcome == Outcome::StreamError)
            transient = true;
    }
    if (!m_record.attempts.isEmpty()) {
        m_record.provider = m_record.attempts.last().provider;
        m_record.model = m_record.attempts.last().model;
    }

    if (allClientErrors && m_firstClientError.status > 0) {
        // The request itself is wrong for every entry: give the client the first provider's answer.
        QByteArray body = m_firstClientError.body;
        if (!QJsonDocument::fromJson(body).object().value(QLatin1String("error")).isObject())
            body = ApiError::invalidRequest(StreamChunk::errorMessage(body)).toJson();
        if (m_sink)
            m_sink->sendJson(m_firstClientError.status, body, successHeaders(m_record.attempts.size()));
        complete(m_firstClientError.status, m_record.attempts.first().reason);
        return;
    }

    // The earliest moment an entry of this chain may serve this request, if any will by waiting: cooldowns,
    // window resets, manual windows sliding, slots freeing.
    qint64 earliest = -1;
    const qint64 now = m_tracker.clock().nowMs();
    if (const ChainConfig *chain = m_config->chain(m_chainName)) {
        for (int i = 0; i < chain->entries.size(); ++i) {
            const ChainEntry &entry = chain->entries.at(i);
            const ProviderConfig *provider = m_config->provider(entry.provider);
            if (!provider || !provider->enabled || m_tooLarge.contains(i))
                continue;
            const auto verdict = m_tracker.check(entry.provider, entry.model, m_estimatedTokens);
            if (!verdict.allowed() && verdict.freesAtMs > now &&
                (earliest < 0 || verdict.freesAtMs < earliest))
                earliest = verdict.freesAtMs;
        }
    }
    ApiError error;
    error.code = QStringLiteral("all_providers_exhausted");
    error.message = QStringLiteral("All providers exhausted in chain \"%1\". Tried: %2")
                        .arg(m_chainName, tried.isEmpty() ? QStringLiteral("(no entries)")
                                                          : tried.join(QLatin1String(", ")));
    if (earliest >= 0) {
        error.status = 429;
        error.type = QStringLiteral("rate_limit_error");
        error.retryAfterSeconds = qMax<qint64>(1, (earliest - now + 999) / 1000);
        error.message += QStringLiteral(". First entry frees up in %1s.").arg(error.retryAfterSeconds);
    } else if (transient) {
        error.status = 502;
    } else {
        error.status = 503;
    }
    if (enqueue(error, earliest > 0 ? earliest : 0))
        return;
    ChatSink::Headers headers{
        {QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(m_record.attempts.size())}};
    if (error.retryAfterSeconds > 0)
        headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterSeconds)});
    if (m_sink)
        m_sink->sendJson(error.status, error.toJson(), headers);
    qCWarning(lcRouter).noquote() << error.message;
    emit chainExhausted(m_chainName, error.retryAfterSeconds);
    complete(error.status, error.message);
}

void ChatExecution::recordEstimatedTokens(qint64 completionChars)
{
    m_record.promptTokens = m_request.estimatedPromptTokens;
    m_record.completionTokens = ChatRequest::estimateTokens(completionChars);
    m_record.totalTokens = m_record.promptTokens + m_record.completionTokens;
    m_record.tokensEstimated = true;
}

void ChatExecution::dropCall()
{
    if (!m_call)
        return;
    m_call->abort();
    m_call->deleteLater();
    m_call = nullptr;
}

void ChatExecution::leaveQueue()
{
    if (!m_fromQueue)
        return;
    // Waiting or retried: the queue forgets it (and passes the turn on); nothing more goes upstream.
    if (m_queue)
        m_queue->cancel(m_queueTicket);
    m_fromQueue = false;
    m_queued = false;
}

void ChatExecution::onClientGone()
{
    if (m_done)
        return;
    leaveQueue();
    if (m_call) {
        dropCall();
        if (m_entry)
            recordAttempt(Outcome::StreamError, 0, QStringLiteral("client disconnected"));
    }
    if (m_committed && m_record.totalTokens == 0) {
        recordEstimatedTokens(m_contentChars);
    }
    endAttempt(streamedTokens()); // the prompt (and what was streamed) may have been counted upstream
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": client went away, upstream call aborted";
    complete(499, QStringLiteral("client disconnected"));
}

void ChatExecution::abort(const QString &code, const QString &message)
{
    if (m_done)
        return;
    leaveQueue();
    if (m_waiting) {
        m_waiting = false;
        disconnect(m_waitConnection);
    }
    m_waitDeadline.stop();
    const bool calling = m_call != nullptr;
    dropCall();
    if (m_committed) {
        ApiError error{503, message, QStringLiteral("server_error"), code, {}, -1};
        writeToClient(error.toSseEvent());
        if (m_sink)
            m_sink->endEventStream();
        if (m_record.totalTokens == 0) {
            recordEstimatedTokens(m_contentChars);
        }
    } else {
        ApiError error{503, message, QStringLiteral("server_error"), code, {}, -1};
        ChatSink::Headers headers{
            {QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(m_record.attempts.size())}};
        if (m_sink)
            m_sink->sendJson(error.status, error.toJson(), headers);
    }
    if (calling && m_entry)
        recordAttempt(Outcome::StreamError, m_committed ? 200 : 0, message);
    if (m_entry && (calling || m_committed)) {
        m_record.provider = m_entry->provider;
        m_record.model = m_entry->model;
    }
    endAttempt(calling ? streamedTokens() : -1);
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": request ended:" << message;
    complete(503, message);
}

ChatSink::Headers ChatExecution::successHeaders(qsizetype attempts) const
{
    ChatSink::Headers headers;
    if (m_entry) {
        headers.append({QByteArrayLiteral("X-429chain-Provider"),
                        (m_entry->provider + QLatin1Char('/') + m_entry->model).toUtf8()});
    }
    headers.append({QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(attempts)});
    return headers;
}

void ChatExecution::complete(int status, const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    if (m_fromQueue) {
        // A request retried from the queue was answered: the next one in line may go.
        m_fromQueue = false;
        if (m_queue)
            m_queue->drainNext(m_chainName);
    }
    m_record.status = status;
    if (status >= 400)
        m_record.error = error;
    else
        m_record.error.clear();
    m_record.latencyMs = m_requestTimer.elapsed();
    if (m_sink)
        m_sink->requestFinished(m_record);
    emit finished(m_record);
    deleteLater();
}
