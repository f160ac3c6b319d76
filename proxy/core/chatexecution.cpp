#include "chatexecution.h"

#include "chatsink.h"
#include "limithints.h"
#include "providerkind.h"
#include "ratelimittracker.h"
#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRouter, "chain.router")

using Outcome = AttemptRecord::Outcome;

ChatExecution::ChatExecution(std::shared_ptr<const Config> config, QString chainName, ChatRequest request,
                             ChatSink *sink, RateLimitTracker &tracker, UpstreamPool &pool, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_chainName(std::move(chainName))
    , m_request(std::move(request))
    , m_sink(sink)
    , m_tracker(tracker)
    , m_pool(pool)
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
    m_record.promptTokens = m_request.estimatedPromptTokens;
    m_record.clientKeyLabel = m_request.clientKeyLabel;
}

ChatExecution::~ChatExecution()
{
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
        const ChainEntry &entry = chain->entries.at(m_nextEntry++);
        const ProviderConfig *provider = m_config->provider(entry.provider);
        m_entry = &entry;
        m_provider = provider;
        if (!provider || !provider->enabled) {
            recordAttempt(Outcome::Skipped, 0, QStringLiteral("skipped (provider disabled)"));
            continue;
        }
        if (const auto cooldown = m_tracker.cooldown(entry.provider, entry.model)) {
            const qint64 left = (cooldown->untilMs - m_tracker.clock().nowMs() + 999) / 1000;
            recordAttempt(Outcome::Skipped, 0,
                          QStringLiteral("skipped (on cooldown %1s: %2)").arg(left).arg(cooldown->reason));
            continue;
        }
        startAttempt(*provider, entry);
        return;
    }
    if (!m_done)
        answerAllFailed();
}

UpstreamCall::Request ChatExecution::buildRequest(const ProviderConfig &provider, const ChainEntry &entry) const
{
    QJsonObject body = m_request.body;
    body.insert(QLatin1String("model"), entry.model);
    if (m_request.stream) {
        QJsonObject options = body.value(QLatin1String("stream_options")).toObject();
        options.insert(QLatin1String("include_usage"), true);
        body.insert(QLatin1String("stream_options"), options);
    }
    ProviderKind::adaptBody(provider.type, entry.model, body);

    QString base = provider.baseUrl.isEmpty() ? ProviderKind::defaultBaseUrl(provider.type) : provider.baseUrl;
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
    m_attemptTimer.start();
    m_call = new UpstreamCall(m_pool, buildRequest(provider, entry), this);
    connect(m_call, &UpstreamCall::finished, this, &ChatExecution::onCallFinished);
    if (m_request.stream)
        connect(m_call, &UpstreamCall::dataAvailable, this, &ChatExecution::onStreamData);
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << "trying" << entry.provider + QLatin1Char('/') + entry.model;
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
            failAttempt(Outcome::Timeout, status, QStringLiteral("stream idle before first token (%1)").arg(errorString));
    } else if (failure == UpstreamCall::Failure::Network || failure == UpstreamCall::Failure::TooLarge) {
        if (m_committed)
            failAfterCommit(QStringLiteral("stream_error"), QStringLiteral("Stream error from provider: %1").arg(errorString));
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
                            QStringLiteral("Stream from %1/%2 ended before [DONE]").arg(m_entry->provider, m_entry->model));
        else if (!m_committed)
            failAttempt(Outcome::NetworkError, status, QStringLiteral("stream ended before the first token"));
    }
}

void ChatExecution::handleHttpFailure(int status, const QByteArray &body)
{
    const QString message = StreamChunk::errorMessage(body);
    const QString &provider = m_entry->provider;
    const QString &model = m_entry->model;
    if (status == 429) {
        const LimitHints hints = LimitParsing::fromHeaders(m_call->headers(), m_tracker.clock().nowMs());
        const qint64 cooldown = hints.retryAfterMs.value_or(m_config->settings.cooldownDefaultMs);
        const QString reason = QStringLiteral("429 rate limited: %1").arg(message);
        m_tracker.markCooldown(provider, model, qMax<qint64>(cooldown, 1000), RateLimitTracker::Kind::RateLimited, reason);
        failAttempt(Outcome::RateLimited, status, reason);
    } else if (status == 402) {
        const QString reason = QStringLiteral("402 payment required (credits exhausted): %1").arg(message);
        m_tracker.markCooldown(provider, model, m_tracker.policy().creditsCooldownMs, RateLimitTracker::Kind::Credits, reason);
        failAttempt(Outcome::RateLimited, status, reason);
    } else if (status == 401 || status == 403) {
        const QString reason = QStringLiteral("%1 provider refused the key (check providers[%2].apiKey): %3")
                                   .arg(status)
                                   .arg(provider, message);
        m_tracker.markCooldown(provider, model, m_tracker.policy().misconfiguredCooldownMs,
                               RateLimitTracker::Kind::Misconfigured, reason);
        failAttempt(Outcome::ClientError, status, reason);
    } else if (status >= 400 && status < 500) {
        if (m_firstClientError.status == 0)
            m_firstClientError = {status, body}; // if every entry says 4xx, the client gets the first one
        failAttempt(Outcome::ClientError, status, QStringLiteral("%1: %2").arg(status).arg(message));
    } else {
        const QString reason = QStringLiteral("%1: %2").arg(status).arg(message);
        m_tracker.recordFailure(provider, model, reason);
        failAttempt(Outcome::ServerError, status, reason);
    }
}

void ChatExecution::failAttempt(Outcome outcome, int status, const QString &reason)
{
    recordAttempt(outcome, status, reason);
    if (outcome == Outcome::Timeout || outcome == Outcome::NetworkError)
        m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
    m_pending.clear();
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ':' << m_entry->provider + QLatin1Char('/') + m_entry->model
                               << "failed:" << reason << "-> waterfalling";
    if (m_call) {
        m_call->abort();
        m_call->deleteLater();
        m_call = nullptr;
    }
    tryNext();
}

void ChatExecution::succeedWhole(const QByteArray &body)
{
    QJsonObject obj = QJsonDocument::fromJson(body).object();
    if (obj.isEmpty() || (obj.contains(QLatin1String("error")) && !obj.contains(QLatin1String("choices")))) {
        // Some providers answer 200 with an error body.
        const QString reason = QStringLiteral("200 with an error body: %1").arg(StreamChunk::errorMessage(body));
        m_tracker.recordFailure(m_entry->provider, m_entry->model, reason);
        failAttempt(Outcome::ServerError, 200, reason);
        return;
    }
    recordAttempt(Outcome::Success, 200, QStringLiteral("ok"));
    m_tracker.recordSuccess(m_entry->provider, m_entry->model);
    if (const auto usage = StreamChunk::usageOf(obj)) {
        m_record.promptTokens = usage->prompt;
        m_record.completionTokens = usage->completion;
        m_record.totalTokens = usage->total;
    } else {
        qint64 chars = 0;
        for (const auto &c : obj.value(QLatin1String("choices")).toArray())
            chars += c.toObject().value(QLatin1String("message")).toObject().value(QLatin1String("content")).toString().size();
        m_record.completionTokens = ChatRequest::estimateTokens(chars);
        m_record.totalTokens = m_record.promptTokens + m_record.completionTokens;
        m_record.tokensEstimated = true;
    }
    QByteArray out = body;
    if (m_config->settings.normalizeResponses && StreamChunk::normalizeReasoning(obj))
        out = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    if (m_sink)
        m_sink->sendJson(200, out, successHeaders(m_record.attempts.size()));
    m_record.provider = m_entry->provider;
    m_record.model = m_entry->model;
    complete(200);
}

void ChatExecution::onStreamData()
{
    if (!m_call || m_done)
        return;
    const QByteArray bytes = m_call->readAvailable();
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
    if (m_committed && m_call && m_sink && m_sink->pendingBytes() > kHighWaterBytes)
        m_call->setPaused(true);
}

void ChatExecution::handleEvent(const SseEvent &event)
{
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
    const bool mustParse = !m_committed || namedError || event.data.contains("\"usage\"")
        || event.data.contains("\"error\"") || (m_config->settings.normalizeResponses && event.data.contains("reasoning_content"));
    StreamChunk::Info info;
    if (mustParse)
        info = StreamChunk::inspect(event.data, m_config->settings.normalizeResponses);
    if (namedError || info.hasError) {
        const QString message = info.errorMessage.isEmpty() ? QString::fromUtf8(event.data.left(200)) : info.errorMessage;
        if (m_committed) {
            failAfterCommit(QStringLiteral("stream_error"), QStringLiteral("Stream error from provider: %1").arg(message));
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
    QByteArray framed = info.rewritten.isEmpty() ? event.serialize() : SseEvent{SseEvent::Kind::Data, event.event, info.rewritten, event.id, {}}.serialize();
    if (!m_committed) {
        m_pending += framed;
        if (info.hasContent || info.finished)
            commitStream();
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
    qCDebug(lcRouter).noquote() << "chain" << m_chainName << "committed to" << m_entry->provider + QLatin1Char('/') + m_entry->model;
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
        m_record.completionTokens = ChatRequest::estimateTokens(m_contentChars);
        m_record.totalTokens = m_record.promptTokens + m_record.completionTokens;
        m_record.tokensEstimated = true;
    }
    if (m_call) {
        m_call->abort();
        m_call->deleteLater();
        m_call = nullptr;
    }
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
    if (m_call) {
        m_call->abort();
        m_call->deleteLater();
        m_call = nullptr;
    }
    qCWarning(lcRouter).noquote() << "chain" << m_chainName << "stream failed after commit:" << message;
    complete(code == QLatin1String("stream_idle_timeout") ? 504 : 502, message);
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
        if (a.outcome == Outcome::ServerError || a.outcome == Outcome::Timeout || a.outcome == Outcome::NetworkError
            || a.outcome == Outcome::StreamError)
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

    // The earliest moment an entry of this chain frees up, if any will by waiting.
    qint64 earliest = -1;
    const qint64 now = m_tracker.clock().nowMs();
    if (const ChainConfig *chain = m_config->chain(m_chainName)) {
        for (const auto &entry : chain->entries) {
            const auto cd = m_tracker.cooldown(entry.provider, entry.model);
            if (cd && cd->kind != RateLimitTracker::Kind::Misconfigured && (earliest < 0 || cd->untilMs < earliest))
                earliest = cd->untilMs;
        }
    }
    ApiError error;
    error.code = QStringLiteral("all_providers_exhausted");
    error.message = QStringLiteral("All providers exhausted in chain \"%1\". Tried: %2")
                        .arg(m_chainName, tried.isEmpty() ? QStringLiteral("(no entries)") : tried.join(QLatin1String(", ")));
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
    ChatSink::Headers headers{{QByteArrayLiteral("X-429chain-Attempts"), QByteArray::number(m_record.attempts.size())}};
    if (error.retryAfterSeconds > 0)
        headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterSeconds)});
    if (m_sink)
        m_sink->sendJson(error.status, error.toJson(), headers);
    qCWarning(lcRouter).noquote() << error.message;
    emit chainExhausted(m_chainName, error.retryAfterSeconds);
    complete(error.status, error.message);
}

void ChatExecution::onClientGone()
{
    if (m_done)
        return;
    if (m_call) {
        m_call->abort();
        m_call->deleteLater();
        m_call = nullptr;
        if (m_entry)
            recordAttempt(Outcome::StreamError, 0, QStringLiteral("client disconnected"));
    }
    qCInfo(lcRouter).noquote() << "chain" << m_chainName << ": client went away, upstream call aborted";
    complete(499, QStringLiteral("client disconnected"));
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
    m_record.status = status;
    if (status >= 400)
        m_record.error = error;
    else
        m_record.error.clear();
    m_record.latencyMs = m_requestTimer.elapsed();
    emit finished(m_record);
    deleteLater();
}
