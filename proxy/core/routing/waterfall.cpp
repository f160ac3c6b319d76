#include "waterfall.h"

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

Waterfall::Waterfall(std::shared_ptr<const Config> config, QString chainName, EngineRequest request,
                     EngineSink *sink, RateLimitTracker &tracker, UpstreamPool &pool, RequestQueue *queue,
                     QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_chainName(std::move(chainName))
    , m_request(std::move(request))
    , m_operation(Operation::of(m_request.operation))
    , m_sink(sink)
    , m_tracker(tracker)
    , m_pool(pool)
    , m_queue(queue)
    , m_reader(*this, m_config->settings.normalizeResponses)
{
    sink->setParent(this);
    connect(sink, &EngineSink::clientGone, this, &Waterfall::onClientGone);
    connect(sink, &EngineSink::drained, this, [this] {
        if (m_attempt)
            m_attempt->call().setPaused(false);
    });
    m_record.chain = m_chainName;
    m_record.stream = m_request.stream;
    m_record.startedAtMs = m_tracker.clock().nowMs();
    // Tokens stay 0 until an upstream answers: usage when it says, an estimate (flagged) when it does not.
    m_record.clientKeyLabel = m_request.clientKeyLabel;
    const ChainConfig *chain = m_config->chain(m_chainName);
    const bool continueOn =
        chain && chain->midStreamContinue ? *chain->midStreamContinue : m_config->settings.midStreamContinue;
    // Not for several choices or log probabilities: a continuation cannot give those consistently.
    m_cont.possible = continueOn && m_request.operation == EngineRequest::Operation::Chat &&
                      m_request.stream && m_request.body.value(QLatin1String("n")).toInt(1) <= 1 &&
                      !m_request.body.value(QLatin1String("logprobs")).toBool(false);
    m_waitDeadline.setSingleShot(true);
    connect(&m_waitDeadline, &QTimer::timeout, this, [this] {
        m_waitOver = true;
        if (m_state == State::Waiting)
            walkAgain();
    });
}

// The running attempt, a child, goes with this object; unended, it keeps its reservation.
Waterfall::~Waterfall() = default;

void Waterfall::start()
{
    m_requestTimer.start();
    walk();
}

void Waterfall::refuse(const ApiError &error)
{
    m_requestTimer.start();
    // The request never reached the chain: no entry is named and no attempts are counted.
    deliverFailure(error, ServedBy{{}, {}, -1});
    complete(error.status, error.message);
}

// ---- The walk ----

void Waterfall::walk()
{
    const ChainConfig *chain = m_config->chain(m_chainName);
    const int count = chain ? int(chain->entries.size()) : 0;
    while (m_state != State::Done && m_nextEntry < count) {
        const int index = m_nextEntry++;
        const ChainEntry &entry = chain->entries.at(index);
        const ProviderConfig *provider = m_config->provider(entry.provider);
        if (m_tried.contains(index))
            continue; // asked in an earlier walk of this request: its attempt is on record
        if (!provider || !provider->enabled) {
            recordSkip(entry, QStringLiteral("skipped (provider disabled)"));
            continue;
        }
        if (m_tooLarge.contains(index)) {
            recordSkip(entry, QStringLiteral("skipped (request too large for this tier)"));
            continue;
        }
        const RateLimitTracker::Admission admission = m_tracker.admit(
            entry.provider, entry.model, m_operation.reservedTokens(m_request, *provider, entry));
        if (!admission.allowed()) {
            m_inFlightBound = m_inFlightBound || admission.inFlightBound;
            recordSkip(entry, skipReason(admission));
            continue;
        }
        m_tried.insert(index);
        startAttempt(index, *provider, entry, admission.ticket);
        return;
    }
    if (m_state == State::Done || (m_inFlightBound && waitForInFlight()))
        return;
    if (m_begun) { // a continuation found no entry: the stream ends as it broke
        endBroken();
        return;
    }
    answerExhausted();
}

QString Waterfall::skipReason(const RateLimitTracker::Admission &admission) const
{
    const qint64 left = (admission.freesAtMs - m_tracker.clock().nowMs() + 999) / 1000;
    if (admission.block == RateLimitTracker::Admission::Block::Cooldown) {
        return admission.freesAtMs > 0
                   ? QStringLiteral("skipped (on cooldown %1s: %2)").arg(left).arg(admission.reason)
                   : QStringLiteral("skipped (on cooldown: %1)").arg(admission.reason);
    }
    return admission.freesAtMs > 0
               ? QStringLiteral("skipped (%1; frees in %2s)").arg(admission.reason).arg(left)
               : QStringLiteral("skipped (%1)").arg(admission.reason);
}

void Waterfall::recordSkip(const ChainEntry &entry, const QString &reason)
{
    AttemptRecord a;
    a.provider = entry.provider;
    a.model = entry.model;
    a.outcome = Outcome::Skipped;
    a.reason = reason;
    m_record.attempts.append(a);
}

void Waterfall::startAttempt(int index, const ProviderConfig &provider, const ChainEntry &entry,
                             quint64 ticket)
{
    m_reader.reset();
    m_attempt =
        new Attempt(m_tracker, m_pool, provider, entry, index, ticket,
                    m_operation.upstreamRequest(m_request, provider, entry, m_config->settings), this);
    setWalking();
    connect(&m_attempt->call(), &UpstreamCall::finished, this, &Waterfall::onCallFinished);
    if (m_request.stream)
        connect(&m_attempt->call(), &UpstreamCall::dataAvailable, this, &Waterfall::onStreamData);
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << "trying"
                                << entry.provider + QLatin1Char('/') + entry.model;
    m_attempt->start();
}

bool Waterfall::waitForInFlight()
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
    m_state = State::Waiting;
    m_waitConnection =
        connect(&m_tracker, &RateLimitTracker::entryFreed, this, &Waterfall::walkAgain, Qt::QueuedConnection);
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << ": waiting for attempts in flight to report";
    return true;
}

void Waterfall::walkAgain()
{
    if (m_state != State::Waiting)
        return;
    disconnect(m_waitConnection);
    setWalking();
    m_nextEntry = 0;
    m_inFlightBound = false;
    m_walkStart = m_record.attempts.size();
    walk();
}

void Waterfall::restartWalk()
{
    // A new walk from the first entry; the attempts so far stay on the one record.
    setWalking();
    m_tried.clear();
    m_firstClientError = {};
    m_nextEntry = 0;
    m_inFlightBound = false;
    m_waitStarted = false;
    m_waitOver = false;
    m_walkStart = m_record.attempts.size();
    walk();
}

bool Waterfall::enqueue(const ApiError &error, qint64 retryAtHintMs)
{
    if (!m_queue || !m_config->settings.queueMode || error.status != 429)
        return false;
    emit chainExhausted(m_chainName, error.retryAfterSeconds);
    m_state = State::Queued;
    m_fromQueue = true;
    const quint64 ticket = m_queue->enqueue(
        m_chainName, this, [this] { retryFromQueue(); },
        [this](const ApiError &queueError) {
            // The queue answered (timeout, full, shutdown): it has already forgotten the request.
            m_fromQueue = false;
            m_queueTicket = 0;
            deliverFailure(queueError, visited());
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

void Waterfall::retryFromQueue()
{
    if (m_state != State::Queued)
        return;
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << ": retrying queued request";
    restartWalk();
}

void Waterfall::leaveQueue()
{
    if (!m_fromQueue)
        return;
    // Waiting or retried: the queue forgets it (and passes the turn on); nothing more goes upstream.
    if (m_queue)
        m_queue->cancel(m_queueTicket);
    m_fromQueue = false;
}

// ---- One attempt's answer ----

void Waterfall::onCallFinished(UpstreamCall::Failure failure, const QString &errorString)
{
    if (!m_attempt)
        return;
    const bool committed = m_reader.isCommitted(); // this attempt's stream reached the client
    const int status = m_attempt->call().status();
    const ChainEntry &entry = m_attempt->entry();
    switch (failure) {
    case UpstreamCall::Failure::Timeout:
        failOver(Outcome::Timeout, 0, errorString, Attempt::Effect::Transient);
        return;
    case UpstreamCall::Failure::IdleTimeout:
        if (committed)
            failCommitted(QStringLiteral("stream_idle_timeout"), ApiError::Kind::Timeout,
                          QStringLiteral("Stream idle timeout: no data received for %1ms from %2/%3")
                              .arg(m_config->settings.streamIdleTimeoutMs)
                              .arg(entry.provider, entry.model));
        else
            failOver(Outcome::Timeout, status,
                     QStringLiteral("stream idle before first token (%1)").arg(errorString),
                     Attempt::Effect::Transient);
        return;
    case UpstreamCall::Failure::Network:
    case UpstreamCall::Failure::TooLarge:
        if (committed)
            failCommitted(QStringLiteral("stream_error"), ApiError::Kind::Server,
                          QStringLiteral("Stream error from provider: %1").arg(errorString));
        else
            failOver(Outcome::NetworkError, status, errorString, Attempt::Effect::Transient);
        return;
    case UpstreamCall::Failure::None:
        break;
    }
    if (status < 200 || status >= 300) {
        onHttpFailure(status, m_attempt->call().takeBody());
    } else if (!m_request.stream) {
        onWhole(m_attempt->call().takeBody());
    } else if (committed) {
        // The upstream closed the stream; it ends well only with [DONE] (which finished it already).
        failCommitted(
            QStringLiteral("stream_error"), ApiError::Kind::Server,
            QStringLiteral("Stream from %1/%2 ended before [DONE]").arg(entry.provider, entry.model));
    } else {
        failOver(Outcome::NetworkError, status, QStringLiteral("stream ended before the first token"),
                 Attempt::Effect::Transient);
    }
}

void Waterfall::onHttpFailure(int status, const QByteArray &body)
{
    // The limiter decides what the answer means for the entry (cooldowns, windows, escalation).
    const RateLimitTracker::AnswerEffect effect =
        m_attempt->observe(status, body, StreamChunk::errorMessage(body));
    if (status == 429 || status == 402) {
        failOver(Outcome::RateLimited, status, effect.reason, Attempt::Effect::None);
    } else if (status == 401 || status == 403) {
        failOver(Outcome::ClientError, status, effect.reason, Attempt::Effect::None);
    } else if (status >= 400 && status < 500) {
        if (effect.skipThisRequest)
            m_tooLarge.insert(m_attempt->entryIndex());
        if (m_firstClientError.status == 0)
            m_firstClientError = {status, body}; // if every entry says 4xx, the client gets the first one
        failOver(Outcome::ClientError, status, effect.reason, Attempt::Effect::None);
    } else {
        failOver(Outcome::ServerError, status, effect.reason, Attempt::Effect::None);
    }
}

void Waterfall::onWhole(const QByteArray &body)
{
    const Operation::WholeVerdict verdict = m_operation.judgeWhole(body, m_config->settings);
    if (!verdict.ok) {
        failOver(Outcome::ServerError, 200, verdict.problem, Attempt::Effect::Transient);
        return;
    }
    m_record.attempts.append(m_attempt->record(Outcome::Success, 200, QStringLiteral("ok")));
    m_attempt->observe(200);
    recordTokens(verdict.usage, verdict.answerCharacters);
    m_attempt->end(Attempt::Effect::Success, QStringLiteral("ok"), m_record.totalTokens);
    m_record.provider = m_attempt->entry().provider;
    m_record.model = m_attempt->entry().model;
    if (m_sink)
        m_sink->whole(WholeAnswer{servedBy(m_record.attempts.size()), verdict.body});
    dropAttempt();
    complete(200);
}

void Waterfall::onStreamData()
{
    // In pieces: a fast upstream may have megabytes buffered, and every piece becomes a list of events; read
    // at once they would all be in memory together, for each stream.
    constexpr qint64 kPieceBytes = 64 * 1024;
    while (m_attempt && m_state != State::Done) {
        Attempt *attempt = m_attempt;
        const QByteArray bytes = attempt->call().readAvailable(kPieceBytes);
        if (bytes.isEmpty())
            return;
        StreamReader::Failure failure;
        const StreamReader::Result result = m_reader.feed(bytes, &failure);
        if (m_attempt != attempt || m_state == State::Done)
            return; // the request ended while the reader delivered (the client left)
        switch (result) {
        case StreamReader::Result::Reading:
            break;
        case StreamReader::Result::Done:
            finishStream();
            return;
        case StreamReader::Result::Failed:
            onStreamFailed(failure);
            return;
        case StreamReader::Result::Stopped:
            return;
        }
        if (m_begun && m_sink && m_sink->pendingBytes() > kHighWaterBytes) {
            attempt->call().setPaused(true);
            return;
        }
    }
}

void Waterfall::onStreamFailed(const StreamReader::Failure &failure)
{
    const int status = m_attempt->call().status();
    if (m_reader.isCommitted()) {
        if (failure.kind == StreamReader::Failure::Kind::InBandError) {
            std::optional<Attempt::InBandError> inBand;
            if (failure.inBandStatus >= 400) // the limiter hears the code of an error after the first token
                inBand = Attempt::InBandError{failure.inBandStatus, failure.inBandBody, failure.message};
            failCommitted(QStringLiteral("stream_error"), ApiError::Kind::Server,
                          QStringLiteral("Stream error from provider: %1").arg(failure.message), inBand);
        } else {
            failCommitted(QStringLiteral("stream_error"), ApiError::Kind::Server, failure.message);
        }
        return;
    }
    switch (failure.kind) {
    case StreamReader::Failure::Kind::Broken:
        failOver(Outcome::StreamError, status, failure.message, Attempt::Effect::None);
        return;
    case StreamReader::Failure::Kind::Chatter:
        failOver(Outcome::StreamError, status, failure.message, Attempt::Effect::Transient);
        return;
    case StreamReader::Failure::Kind::InBandError:
        break;
    }
    if (failure.inBandStatus >= 400) {
        // An in-band error with an HTTP-like code (OpenRouter's 429 "free-models-per-day" chunk) is a limit
        // signal like any other answer.
        const RateLimitTracker::AnswerEffect effect =
            m_attempt->observe(failure.inBandStatus, failure.inBandBody, failure.message);
        const bool limited = failure.inBandStatus == 429 || failure.inBandStatus == 402;
        failOver(limited ? Outcome::RateLimited : Outcome::StreamError, 200,
                 QStringLiteral("in-band error before first token: %1").arg(effect.reason),
                 Attempt::Effect::None);
    } else {
        failOver(Outcome::StreamError, 200,
                 QStringLiteral("in-band error before first token: %1").arg(failure.message),
                 Attempt::Effect::Transient);
    }
}

bool Waterfall::streamCommitted(const QList<StreamPiece> &held)
{
    m_state = State::Streaming;
    m_record.provider = m_attempt->entry().provider;
    m_record.model = m_attempt->entry().model;
    m_attempt->observe(m_attempt->call().status());
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << (m_begun ? "continuing on" : "committed to")
                                << m_record.provider + QLatin1Char('/') + m_record.model;
    if (m_begun) {
        // The client's stream goes on: a comment names the switch for those who look.
        QByteArray note = ": 429chain: continuing on " +
                          (m_record.provider + QLatin1Char('/') + m_record.model).toUtf8() +
                          " after: " + m_cont.breakage.message.left(200).toUtf8();
        note.replace('\n', ' ').replace('\r', ' ');
        if (!streamPiece(StreamPiece(StreamPiece::Kind::KeepAlive, note + "\n\n", {})))
            return false;
    } else {
        m_begun = true;
        m_record.firstTokenMs = m_requestTimer.elapsed();
        if (m_sink)
            m_sink->begin(servedBy(m_record.attempts.size() + 1));
    }
    for (const StreamPiece &piece : held) {
        if (!streamPiece(piece))
            return false;
    }
    return m_state != State::Done;
}

bool Waterfall::streamPiece(const StreamPiece &piece)
{
    if (m_state == State::Done)
        return false;
    if (m_cont.active && piece.kind() == StreamPiece::Kind::Chunk) {
        const std::optional<StreamPiece> out = continued(piece);
        if (!out)
            return true; // part of the head, held
        noteDelivered(*out);
        if (m_sink)
            m_sink->chunk(*out);
    } else {
        noteDelivered(piece);
        if (m_sink)
            m_sink->chunk(piece);
    }
    return m_state != State::Done;
}

void Waterfall::finishStream()
{
    if (m_cont.active && m_cont.headPending) { // a continuation shorter than the head: what it added
        m_cont.headPending = false;
        if (!m_cont.head.isEmpty() && !streamPiece(headPiece(m_cont.head)))
            return;
    }
    recordStreamTokens();
    if (m_sink) {
        m_sink->usage(TokenUsage{m_record.promptTokens, m_record.completionTokens, m_record.totalTokens,
                                 m_record.tokensEstimated});
        m_sink->done();
    }
    m_record.attempts.append(m_attempt->record(Outcome::Success, 200, QStringLiteral("ok")));
    m_attempt->end(Attempt::Effect::Success, QStringLiteral("ok"), m_record.totalTokens);
    dropAttempt();
    complete(200);
}

// ---- Leaving an attempt ----

void Waterfall::failOver(Outcome outcome, int status, const QString &reason, Attempt::Effect effect)
{
    const bool reachedModel = status >= 200 && status < 300;
    m_record.attempts.append(m_attempt->record(outcome, status, reason));
    if (reachedModel)
        m_attempt->observe(status); // a failed stream's headers still tell the quota
    // A refused request used nothing; one that reached the model (a 2xx that failed later) read the prompt.
    m_attempt->end(effect, reason, reachedModel ? m_request.estimatedPromptTokens : 0);
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ':'
                               << m_attempt->entry().provider + QLatin1Char('/') + m_attempt->entry().model
                               << "failed:" << reason << "-> waterfalling";
    dropAttempt();
    setWalking();
    walk();
}

void Waterfall::failCommitted(const QString &code, ApiError::Kind kind, const QString &message,
                              const std::optional<Attempt::InBandError> &inBand)
{
    const bool continuing = continuable();
    m_record.attempts.append(
        m_attempt->record(Outcome::StreamError, 200,
                          continuing ? QStringLiteral("%1 (after %2 characters; continued on the next entry)")
                                           .arg(message)
                                           .arg(m_reader.contentCharacters())
                                     : message));
    m_attempt->end(Attempt::Effect::MidStream, message, streamedTokens(), inBand);
    qCWarning(lcRouter).noquote() << "chain" << m_chainName << "stream failed after commit:" << message
                                  << (continuing ? "-> continuing on the next entry" : "");
    if (m_cont.breakage.code.isEmpty())
        m_cont.breakage = {code, kind, message};
    dropAttempt();
    if (!continuing) {
        endBroken();
        return;
    }
    settleStreamTokens();
    startContinuation();
}

void Waterfall::endBroken()
{
    // No ending of success: a client must not mistake a truncated answer for a complete one.
    const Continuation::Breakage &b = m_cont.breakage;
    if (m_sink)
        m_sink->fail(EngineFailure{
            ApiError::make(502, b.kind, b.code, b.message), servedBy(m_record.attempts.size()), {}});
    recordStreamTokens(); // no usage came before the failure: what was read and streamed, estimated
    complete(b.code == QLatin1String("stream_idle_timeout") ? 504 : 502, b.message);
}

bool Waterfall::continuable() const
{
    return m_cont.possible && !m_cont.toolCalls;
}

void Waterfall::startContinuation()
{
    // The same request, with what the client has read as the assistant's turn so far: the next entry
    // continues it rather than starting again. A continuation that broke too replaces the partial turn.
    m_cont.delivered = StreamChunk::decodeContentStrings(m_cont.deliveredStrings);
    QJsonArray messages = m_request.body.value(QLatin1String("messages")).toArray();
    if (m_cont.active) {
        messages.removeLast();
        messages.removeLast();
    }
    messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                {QStringLiteral("content"), m_cont.delivered}});
    messages.append(QJsonObject{
        {QStringLiteral("role"), QStringLiteral("user")},
        {QStringLiteral("content"),
         QStringLiteral(
             "Your previous reply was cut off; the message above is what was written of it so far. "
             "Continue it from exactly where it stops, as if never interrupted: do not repeat any of "
             "it, add no preamble and do not mention the interruption.")}});
    m_request.body.insert(QLatin1String("messages"), messages);
    m_request.estimatedPromptTokens = EngineRequest::estimatePromptTokens(m_request.body);
    m_cont.active = true;
    m_cont.headPending = true;
    m_cont.head.clear();
    m_state = State::Continuing;
    walk();
}

std::optional<StreamPiece> Waterfall::continued(const StreamPiece &piece)
{
    QJsonObject chunk = QJsonDocument::fromJson(piece.data()).object();
    if (chunk.isEmpty())
        return piece;
    if (!m_cont.streamId.isEmpty())
        chunk.insert(QLatin1String("id"), m_cont.streamId);
    if (!m_cont.model.isEmpty())
        chunk.insert(QLatin1String("model"), m_cont.model);
    QJsonArray choices = chunk.value(QLatin1String("choices")).toArray();
    if (!choices.isEmpty()) {
        QJsonObject choice = choices.at(0).toObject();
        QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
        delta.remove(QLatin1String("role")); // the client had its role chunk
        if (m_cont.headPending) {
            m_cont.head += delta.value(QLatin1String("content")).toString();
            const bool last = !choice.value(QLatin1String("finish_reason")).toString().isEmpty();
            if (m_cont.head.size() < kHeadChars && !last)
                return std::nullopt;
            // Models often start by repeating the last words they were shown: that overlap is cut.
            m_cont.headPending = false;
            qsizetype overlap = 0;
            const qsizetype longest = qMin<qsizetype>(qMin(m_cont.head.size(), m_cont.delivered.size()), 200);
            for (qsizetype k = longest; k >= 8; --k) {
                if (m_cont.delivered.endsWith(QStringView(m_cont.head).left(k))) {
                    overlap = k;
                    break;
                }
            }
            delta.insert(QLatin1String("content"), m_cont.head.mid(overlap));
        }
        choice.insert(QLatin1String("delta"), delta);
        choices.replace(0, choice);
        chunk.insert(QLatin1String("choices"), choices);
    }
    return chunkPiece(chunk, piece.usageOnly());
}

StreamPiece Waterfall::headPiece(const QString &text) const
{
    const QJsonObject chunk{
        {QStringLiteral("id"), m_cont.streamId},
        {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
        {QStringLiteral("model"), m_cont.model},
        {QStringLiteral("choices"),
         QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                {QStringLiteral("delta"), QJsonObject{{QStringLiteral("content"), text}}},
                                {QStringLiteral("finish_reason"), QJsonValue::Null}}}}};
    return chunkPiece(chunk);
}

StreamPiece Waterfall::chunkPiece(const QJsonObject &chunk, bool usageOnly)
{
    const QByteArray data = QJsonDocument(chunk).toJson(QJsonDocument::Compact);
    return StreamPiece(StreamPiece::Kind::Chunk, "data: " + data + "\n\n", data, usageOnly);
}

void Waterfall::noteDelivered(const StreamPiece &piece)
{
    if (!m_cont.possible || piece.kind() != StreamPiece::Kind::Chunk)
        return;
    if (m_cont.streamId.isEmpty() && !piece.usageOnly()) {
        m_cont.streamId = piece.delta().id;
        m_cont.model = piece.delta().model;
    }
    if (piece.data().contains("\"tool_calls\""))
        m_cont.toolCalls = true; // half a tool call cannot be continued
    StreamChunk::appendContentStrings(piece.data(), &m_cont.deliveredStrings);
}

void Waterfall::dropAttempt()
{
    if (!m_attempt)
        return;
    m_attempt->abortCall();
    m_attempt->deleteLater();
    m_attempt = nullptr;
}

// ---- The request's end ----

void Waterfall::answerExhausted()
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
        // The request itself is wrong for every entry: the client gets the first provider's answer.
        ApiError error = ApiError::invalidRequest(StreamChunk::errorMessage(m_firstClientError.body));
        error.status = m_firstClientError.status;
        deliverFailure(error, ServedBy{m_record.provider, m_record.model, m_record.attempts.size()},
                       m_firstClientError.body);
        complete(m_firstClientError.status, m_record.attempts.first().reason);
        return;
    }

    const qint64 earliest = earliestFreeMs();
    const qint64 now = m_tracker.clock().nowMs();
    QString message = QStringLiteral("All providers exhausted in chain \"%1\". Tried: %2")
                          .arg(m_chainName, tried.isEmpty() ? QStringLiteral("(no entries)")
                                                            : tried.join(QLatin1String(", ")));
    ApiError error;
    if (earliest >= 0) {
        const qint64 retryAfter = qMax<qint64>(1, (earliest - now + 999) / 1000);
        message += QStringLiteral(". First entry frees up in %1s.").arg(retryAfter);
        error = ApiError::make(429, ApiError::Kind::RateLimit, QStringLiteral("all_providers_exhausted"),
                               message);
        error.retryAfterSeconds = retryAfter;
    } else {
        error = ApiError::make(transient ? 502 : 503, ApiError::Kind::Server,
                               QStringLiteral("all_providers_exhausted"), message);
    }
    if (enqueue(error, earliest > 0 ? earliest : 0))
        return;
    deliverFailure(error, visited());
    qCWarning(lcRouter).noquote() << error.message;
    emit chainExhausted(m_chainName, error.retryAfterSeconds);
    complete(error.status, error.message);
}

qint64 Waterfall::earliestFreeMs() const
{
    // The earliest moment an entry of this chain may serve this request, if any will by waiting: cooldowns,
    // window resets, manual windows sliding, slots freeing.
    qint64 earliest = -1;
    const qint64 now = m_tracker.clock().nowMs();
    const ChainConfig *chain = m_config->chain(m_chainName);
    if (!chain)
        return earliest;
    for (int i = 0; i < chain->entries.size(); ++i) {
        const ChainEntry &entry = chain->entries.at(i);
        const ProviderConfig *provider = m_config->provider(entry.provider);
        if (!provider || !provider->enabled || m_tooLarge.contains(i))
            continue;
        const auto verdict = m_tracker.check(entry.provider, entry.model,
                                             m_operation.reservedTokens(m_request, *provider, entry));
        if (!verdict.allowed() && verdict.freesAtMs > now && (earliest < 0 || verdict.freesAtMs < earliest))
            earliest = verdict.freesAtMs;
    }
    return earliest;
}

void Waterfall::deliverFailure(const ApiError &error, const ServedBy &served, const QByteArray &upstreamBody)
{
    if (m_sink)
        m_sink->fail(EngineFailure{error, served, upstreamBody});
}

ServedBy Waterfall::visited() const
{
    return ServedBy{{}, {}, m_record.attempts.size()};
}

void Waterfall::onClientGone()
{
    if (m_state == State::Done)
        return;
    leaveQueue();
    if (m_attempt) {
        m_attempt->abortCall();
        m_record.attempts.append(
            m_attempt->record(Outcome::StreamError, 0, QStringLiteral("client disconnected")));
        if (m_begun)
            recordStreamTokens();
        // The prompt (and what was streamed) may have been counted upstream.
        m_attempt->end(Attempt::Effect::None, QStringLiteral("client disconnected"), streamedTokens());
        dropAttempt();
    }
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": client went away, upstream call aborted";
    complete(499, QStringLiteral("client disconnected"));
}

void Waterfall::abort(const QString &code, const QString &message)
{
    if (m_state == State::Done)
        return;
    leaveQueue();
    const bool committed = m_begun;
    const ApiError error = ApiError::make(503, ApiError::Kind::Overloaded, code, message);
    if (m_attempt)
        m_attempt->abortCall();
    if (committed) {
        if (m_sink)
            m_sink->fail(EngineFailure{error, servedBy(m_record.attempts.size() + 1), {}});
        recordStreamTokens();
    } else {
        deliverFailure(error, visited());
    }
    if (m_attempt) {
        m_record.attempts.append(m_attempt->record(Outcome::StreamError, committed ? 200 : 0, message));
        m_record.provider = m_attempt->entry().provider;
        m_record.model = m_attempt->entry().model;
        m_attempt->end(Attempt::Effect::None, message, streamedTokens());
        dropAttempt();
    }
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": request ended:" << message;
    complete(503, message);
}

void Waterfall::complete(int status, const QString &error)
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_waitDeadline.stop();
    disconnect(m_waitConnection);
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

ServedBy Waterfall::servedBy(qsizetype attempts) const
{
    ServedBy served;
    if (m_attempt) {
        served.provider = m_attempt->entry().provider;
        served.model = m_attempt->entry().model;
    }
    served.attempts = attempts;
    return served;
}

qint64 Waterfall::streamedTokens() const
{
    if (const std::optional<TokenUsage> usage = m_reader.usage(); usage && usage->total > 0)
        return usage->total;
    return m_request.estimatedPromptTokens + EngineRequest::estimateTokens(m_reader.contentCharacters());
}

void Waterfall::settleStreamTokens()
{
    if (const std::optional<TokenUsage> usage = m_reader.usage(); usage && usage->total > 0) {
        m_cont.prompt += usage->prompt;
        m_cont.completion += usage->completion;
    } else {
        m_cont.prompt += m_request.estimatedPromptTokens;
        m_cont.completion += EngineRequest::estimateTokens(m_reader.contentCharacters());
        m_cont.estimated = true;
    }
    m_reader.reset();
}

void Waterfall::recordStreamTokens()
{
    if (m_record.totalTokens > 0)
        return; // already on the record
    const std::optional<TokenUsage> usage = m_reader.usage();
    recordTokens(usage && usage->total > 0 ? usage : std::nullopt, m_reader.contentCharacters());
    // A continued answer counts every attempt that streamed a part of it.
    m_record.promptTokens += m_cont.prompt;
    m_record.completionTokens += m_cont.completion;
    m_record.totalTokens += m_cont.prompt + m_cont.completion;
    m_record.tokensEstimated = m_record.tokensEstimated || m_cont.estimated;
}

void Waterfall::recordTokens(const std::optional<TokenUsage> &usage, qint64 answerCharacters)
{
    if (usage) {
        m_record.promptTokens = usage->prompt;
        m_record.completionTokens = usage->completion;
        m_record.totalTokens = usage->total;
        m_record.tokensEstimated = false;
        return;
    }
    m_record.promptTokens = m_request.estimatedPromptTokens;
    m_record.completionTokens = EngineRequest::estimateTokens(answerCharacters);
    m_record.totalTokens = m_record.promptTokens + m_record.completionTokens;
    m_record.tokensEstimated = true;
}
