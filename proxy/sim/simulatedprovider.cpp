#include "simulatedprovider.h"

#include "clock.h"
#include "guardedtcpserver.h"
#include "simanswer.h"
#include "simdialect.h"
#include "simexchange.h"
#include "simplan.h"

#include <QDateTime>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>

namespace {

using Action = SimExchange::Action;

constexpr qint64 kMaxBodyBytes = 64 * 1024 * 1024;

// Tokens per window reported next to the request counts (Groq/OpenAI TPM, Cerebras tokens-minute).
int tokenLimitFor(SimulatedProvider::Dialect dialect)
{
    switch (dialect) {
    case SimulatedProvider::Dialect::Groq:
    case SimulatedProvider::Dialect::OpenAI:
        return 6000;
    case SimulatedProvider::Dialect::Cerebras:
        return 60000;
    case SimulatedProvider::Dialect::OpenRouter:
    case SimulatedProvider::Dialect::Gemini:
        break;
    }
    return 0;
}

QString defaultMessage(int status)
{
    switch (status) {
    case 400:
        return QStringLiteral("Bad request");
    case 402:
        return QStringLiteral("Insufficient credits: this request requires more credits.");
    case 403:
        return QStringLiteral("Forbidden");
    case 404:
        return QStringLiteral("Not found");
    case 408:
        return QStringLiteral("Request timed out");
    case 413:
        return QStringLiteral("Request too large for this model. Please reduce your message size.");
    case 429:
        return QStringLiteral("Too many requests");
    case 500:
        return QStringLiteral("Internal server error");
    case 502:
        return QStringLiteral("Bad gateway: the upstream model returned an invalid response");
    case 503:
        return QStringLiteral("The model is overloaded. Please try again later.");
    default:
        return QStringLiteral("Simulated error (HTTP %1)").arg(status);
    }
}

} // namespace

SimulatedProvider::Step SimulatedProvider::Step::ok()
{
    return Step();
}

SimulatedProvider::Step SimulatedProvider::Step::rateLimited(qint64 retryAfterSeconds)
{
    Step s;
    s.kind = Kind::RateLimited;
    s.statusCode = 429;
    s.retryAfterSeconds = retryAfterSeconds;
    return s;
}

SimulatedProvider::Step SimulatedProvider::Step::dailyLimited(qint64 retryAfterSeconds)
{
    Step s = rateLimited(retryAfterSeconds);
    s.dailyCap = true;
    return s;
}

SimulatedProvider::Step SimulatedProvider::Step::status(int code, const QByteArray &body)
{
    Step s;
    s.kind = Kind::Status;
    s.statusCode = code;
    s.body = body;
    return s;
}

SimulatedProvider::Step SimulatedProvider::Step::callTools(const QList<ToolCall> &calls, const QString &text)
{
    Step s;
    s.toolCalls = calls;
    s.reply = text;
    return s;
}

SimulatedProvider::Step SimulatedProvider::Step::of(Kind kind, int tokens)
{
    Step s;
    s.kind = kind;
    s.tokens = tokens;
    if (kind == Kind::RateLimited)
        s.statusCode = 429;
    return s;
}

QByteArray SimulatedProvider::ReceivedRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

SimulatedProvider::SimulatedProvider(Dialect dialect, QObject *parent)
    : QObject(parent)
    , m_dialect(dialect)
    , m_server(new QHttpServer(this))
    , m_replies{QStringLiteral("Hello! This is a simulated answer from a 429chain test provider.")}
    , m_models(SimDialect::defaultModels(dialect))
{
    m_server->route(QStringLiteral("/v1/chat/completions"), QHttpServerRequest::Method::Post,
                    [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                        handleChat(request, std::move(responder));
                    });
    m_server->route(QStringLiteral("/v1/models"), QHttpServerRequest::Method::Get,
                    [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                        handleModels(request, std::move(responder));
                    });
    m_server->route(QStringLiteral("/v1/embeddings"), QHttpServerRequest::Method::Post,
                    [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                        handleEmbeddings(request, std::move(responder));
                    });
    m_server->setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        handleMissing(request, std::move(responder));
    });
}

SimulatedProvider::~SimulatedProvider()
{
    // Answers still running are cut before the server goes, like a provider going down.
    qDeleteAll(findChildren<SimExchange *>(QString(), Qt::FindDirectChildrenOnly));
    delete m_server;
}

bool SimulatedProvider::listen(quint16 port)
{
    if (m_port != 0)
        return false;
    ConnectionGuard::Limits limits;
    limits.maxBodyBytes = kMaxBodyBytes;
    auto *tcp = new GuardedTcpServer(limits, this);
    if (!tcp->listen(QHostAddress::LocalHost, port)) {
        delete tcp;
        return false;
    }
    tcp->bindTo(*m_server);
    m_port = tcp->serverPort();
    return true;
}

QString SimulatedProvider::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
}

void SimulatedProvider::enqueue(const Step &step)
{
    m_script.enqueue(step);
}

void SimulatedProvider::setDefaultStep(const Step &step)
{
    m_defaultStep = step;
}

void SimulatedProvider::clearScript()
{
    m_script.clear();
}

void SimulatedProvider::setReply(const QString &text)
{
    setReplies({text});
}

void SimulatedProvider::setReplies(const QStringList &texts)
{
    m_replies = texts.isEmpty() ? QStringList{QString()} : texts;
    m_replyIndex = 0;
}

void SimulatedProvider::setModels(const QStringList &modelIds)
{
    m_models = modelIds;
}

void SimulatedProvider::setChunkDelayMs(int ms)
{
    m_chunkDelayMs = qMax(0, ms);
}

void SimulatedProvider::setFirstTokenDelayMs(int ms)
{
    m_firstTokenDelayMs = qMax(0, ms);
}

void SimulatedProvider::setRequestLimit(int requests, qint64 windowMs)
{
    m_limiter = Limiter();
    if (requests > 0 && windowMs > 0) {
        m_limiter.requests = requests;
        m_limiter.windowMs = windowMs;
    }
}

void SimulatedProvider::setRequiredApiKey(const QString &key)
{
    m_requiredKey = key;
}

void SimulatedProvider::setClock(const Clock *clock)
{
    m_clock = clock;
}

SimulatedProvider::ReceivedRequest SimulatedProvider::lastRequest() const
{
    return m_requests.isEmpty() ? ReceivedRequest() : m_requests.constLast();
}

qint64 SimulatedProvider::nowMs() const
{
    return m_clock ? m_clock->nowMs() : QDateTime::currentMSecsSinceEpoch();
}

QString SimulatedProvider::nextReply()
{
    const QString text = m_replies.at(m_replyIndex % m_replies.size());
    m_replyIndex = (m_replyIndex + 1) % m_replies.size();
    return text;
}

void SimulatedProvider::rollWindow(qint64 now)
{
    if (m_limiter.windowStartMs < 0 || now >= m_limiter.windowStartMs + m_limiter.windowMs) {
        m_limiter.windowStartMs = now;
        m_limiter.used = 0;
        m_limiter.tokensUsed = 0;
    }
}

bool SimulatedProvider::checkApiKey(const QList<QPair<QByteArray, QByteArray>> &headers,
                                    SimExchange *exchange)
{
    if (m_requiredKey.isEmpty())
        return true;
    QByteArray authorization;
    for (const auto &h : headers) {
        if (h.first.compare("authorization", Qt::CaseInsensitive) == 0)
            authorization = h.second.trimmed();
    }
    const QByteArray scheme = QByteArrayLiteral("bearer ");
    const bool hasBearer = authorization.size() > scheme.size() &&
                           authorization.left(scheme.size()).compare(scheme, Qt::CaseInsensitive) == 0;
    if (hasBearer && authorization.mid(scheme.size()).trimmed() == m_requiredKey.toUtf8())
        return true;
    const SimDialect::Reply reply = SimDialect::unauthorized(m_dialect, !hasBearer);
    exchange->setActions({Action::whole(reply.status, reply.body, reply.headers)});
    return false;
}

void SimulatedProvider::startExchange(SimExchange *exchange)
{
    ++m_openAnswers;
    connect(exchange, &SimExchange::streamStarted, this, [this] {
        ++m_activeStreams;
        m_maxConcurrentStreams = qMax(m_maxConcurrentStreams, m_activeStreams);
    });
    connect(exchange, &SimExchange::finished, this, [this, exchange](bool clientLeft) {
        --m_openAnswers;
        if (exchange->hasStreamStarted())
            --m_activeStreams;
        exchange->deleteLater();
        if (clientLeft) {
            ++m_clientAborts;
            emit clientAborted();
        }
    });
    exchange->start();
}

void SimulatedProvider::handleChat(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    ReceivedRequest received;
    received.path = request.url().path();
    received.headers = request.headers();
    received.rawBody = request.body();
    const QJsonDocument doc = QJsonDocument::fromJson(received.rawBody);
    received.body = doc.object();
    received.receivedAtMs = nowMs();
    m_requests << received;

    auto *exchange = new SimExchange(std::move(responder), this);
    if (checkApiKey(received.headers, exchange)) {
        if (doc.isObject()) {
            answerChat(received, exchange);
        } else {
            exchange->setActions({Action::whole(
                400,
                SimDialect::errorBody(m_dialect, 400,
                                      QStringLiteral("We could not parse the JSON body of your request.")))});
        }
    }
    startExchange(exchange);
    emit requestReceived();
}

void SimulatedProvider::handleModels(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    auto *exchange = new SimExchange(std::move(responder), this);
    // OpenRouter's model list is public; the others want the key.
    if (m_dialect == Dialect::OpenRouter || checkApiKey(request.headers(), exchange))
        exchange->setActions({Action::whole(200, SimDialect::modelsList(m_dialect, m_models, nowMs()))});
    startExchange(exchange);
}

void SimulatedProvider::handleMissing(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    auto *exchange = new SimExchange(std::move(responder), this);
    const QString message =
        QStringLiteral("Unknown request URL: %1. Please check the URL and method.").arg(request.url().path());
    exchange->setActions({Action::whole(404, SimDialect::errorBody(m_dialect, 404, message))});
    startExchange(exchange);
}

void SimulatedProvider::answerChat(const ReceivedRequest &request, SimExchange *exchange)
{
    const QJsonObject &body = request.body;
    const bool stream = body.value(QLatin1String("stream")).toBool();
    const bool includeUsage =
        m_reportsUsage &&
        body.value(QLatin1String("stream_options")).toObject().value(QLatin1String("include_usage")).toBool();
    QString model = body.value(QLatin1String("model")).toString();
    if (model.isEmpty())
        model = m_models.value(0, QStringLiteral("simulated-model"));
    const qint64 now = nowMs();

    // The limiter comes first, as on a real provider: a rejected request never reaches the model and leaves
    // the script alone.
    if (m_limiter.requests > 0) {
        rollWindow(now);
        if (m_limiter.used >= m_limiter.requests) {
            const qint64 resetIn = m_limiter.windowStartMs + m_limiter.windowMs - now;
            SimDialect::RateLimitFacts facts;
            facts.model = model;
            facts.resetInMs = resetIn;
            facts.limit = m_limiter.requests;
            facts.nowMs = now;
            if (m_dialect != Dialect::OpenRouter && m_dialect != Dialect::Gemini)
                facts.retryAfterSeconds = (resetIn + 999) / 1000;
            const int tokenLimit = tokenLimitFor(m_dialect);
            facts.window = SimDialect::WindowState{m_limiter.requests, 0, resetIn, tokenLimit,
                                                   qMax(0, tokenLimit - m_limiter.tokensUsed)};
            const SimDialect::Reply reply = SimDialect::rateLimited(m_dialect, facts);
            exchange->setActions({Action::whole(reply.status, reply.body, reply.headers)});
            return;
        }
    }

    const Step step = m_script.isEmpty() ? m_defaultStep : m_script.dequeue();

    if (step.kind == Step::Kind::RateLimited) {
        SimDialect::RateLimitFacts facts;
        facts.model = model;
        facts.dailyCap = step.dailyCap;
        facts.nowMs = now;
        if (step.retryAfterSeconds >= 0) {
            facts.retryAfterSeconds = step.retryAfterSeconds;
            facts.resetInMs = step.retryAfterSeconds * 1000;
        }
        SimDialect::Reply reply = SimDialect::rateLimited(m_dialect, facts);
        if (!step.body.isEmpty())
            reply.body = step.body;
        exchange->setActions({Action::whole(reply.status, reply.body, reply.headers)});
        return;
    }
    if (step.kind == Step::Kind::Status) {
        QByteArray errorBody = step.body;
        if (errorBody.isEmpty()) {
            errorBody = step.statusCode == 401 ? SimDialect::unauthorized(m_dialect, false).body
                                               : SimDialect::errorBody(m_dialect, step.statusCode,
                                                                       defaultMessage(step.statusCode));
        }
        exchange->setActions({Action::whole(step.statusCode, errorBody)});
        return;
    }

    if (step.kind == Step::Kind::Ok && !m_toolCallAnswers.isEmpty()) {
        answerToolCalls(body, model, stream, includeUsage, exchange, now);
        return;
    }

    // From here on the request reached the "model": it counts against the limiter.
    const bool callsTools = step.kind == Step::Kind::Ok && !step.toolCalls.isEmpty();
    SimAnswer answer(m_dialect, model, callsTools ? step.reply : nextReply(), SimAnswer::promptTokens(body),
                     now, ++m_answerSerial);
    if (callsTools)
        answer.setToolCalls(step.toolCalls);
    answer.setUsageRequested(includeUsage);
    answer.setReportsUsage(m_reportsUsage);
    ResponseWriter::Headers headers;
    if (m_limiter.requests > 0) {
        ++m_limiter.used;
        m_limiter.tokensUsed += answer.totalTokens();
        const int tokenLimit = tokenLimitFor(m_dialect);
        const SimDialect::WindowState window{m_limiter.requests, m_limiter.requests - m_limiter.used,
                                             m_limiter.windowStartMs + m_limiter.windowMs - now, tokenLimit,
                                             qMax(0, tokenLimit - m_limiter.tokensUsed)};
        headers = SimDialect::windowHeaders(m_dialect, window, now);
    }

    SimPlan::Pacing pacing;
    pacing.firstTokenDelayMs = m_firstTokenDelayMs;
    pacing.chunkDelayMs = m_chunkDelayMs;
    exchange->setActions(SimPlan::actions(m_dialect, step, answer, stream, includeUsage, headers, pacing));
}

// ---- Tool calls and embeddings ----

void SimulatedProvider::enqueueToolCalls(const QList<SimExtras::ToolCall> &calls, const QString &text)
{
    m_toolCallAnswers.enqueue({text, calls});
}

void SimulatedProvider::answerToolCalls(const QJsonObject &body, const QString &model, bool stream,
                                        bool includeUsage, SimExchange *exchange, qint64 now)
{
    const auto next = m_toolCallAnswers.dequeue();
    SimExtras::ToolAnswer answer;
    answer.model = model;
    answer.text = next.first;
    answer.calls = next.second;
    answer.promptTokens = SimAnswer::promptTokens(body);
    answer.created = now / 1000;
    answer.id = QStringLiteral("chatcmpl-sim-%1").arg(++m_answerSerial);
    if (stream)
        exchange->setActions(SimExtras::toolCallStream(answer, includeUsage, {}));
    else
        exchange->setActions({Action::whole(200, SimExtras::toolCallJson(answer, m_reportsUsage))});
}

void SimulatedProvider::handleEmbeddings(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    ReceivedRequest received;
    received.path = request.url().path();
    received.headers = request.headers();
    received.rawBody = request.body();
    received.body = QJsonDocument::fromJson(received.rawBody).object();
    received.receivedAtMs = nowMs();
    m_requests << received;

    auto *exchange = new SimExchange(std::move(responder), this);
    if (checkApiKey(received.headers, exchange)) {
        const QString model = received.body.value(QLatin1String("model")).toString();
        const Step step = m_script.isEmpty() ? m_defaultStep : m_script.dequeue();
        if (step.kind == Step::Kind::RateLimited) {
            SimDialect::RateLimitFacts facts;
            facts.model = model;
            facts.nowMs = received.receivedAtMs;
            if (step.retryAfterSeconds >= 0)
                facts.retryAfterSeconds = step.retryAfterSeconds;
            const SimDialect::Reply reply = SimDialect::rateLimited(m_dialect, facts);
            exchange->setActions({Action::whole(reply.status, reply.body, reply.headers)});
        } else if (step.kind == Step::Kind::Status) {
            exchange->setActions({Action::whole(
                step.statusCode, step.body.isEmpty() ? SimDialect::errorBody(m_dialect, step.statusCode,
                                                                             defaultMessage(step.statusCode))
                                                     : step.body)});
        } else {
            const bool base64 =
                m_embeddingsHonourBase64 &&
                received.body.value(QLatin1String("encoding_format")).toString() == QLatin1String("base64");
            exchange->setActions(
                {Action::whole(200, SimExtras::embeddingsJson(received.body, model, base64))});
        }
    }
    startExchange(exchange);
    emit requestReceived();
}
