#include "chaintester.h"

#include "streamchunk.h"

#include "providerkind.h"
#include "upstreampool.h"

#include <QJsonArray>
#include <QJsonDocument>

ChainTester::ChainTester(std::shared_ptr<const Config> config, const ChainConfig &chain, QString prompt,
                         UpstreamPool &pool, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_chain(chain)
    , m_prompt(prompt.isEmpty() ? defaultPrompt() : std::move(prompt))
    , m_pool(pool)
{
}

ChainTester::~ChainTester()
{
    if (m_call)
        m_call->abort();
}

void ChainTester::start()
{
    next();
}

QString ChainTester::shorten(const QString &text)
{
    return text.size() > kResponseChars ? text.left(kResponseChars) + QLatin1String("...") : text;
}

QString ChainTester::errorMessage(const QByteArray &body)
{
    return shorten(StreamChunk::errorMessage(body));
}

UpstreamCall::Request ChainTester::buildRequest(const ProviderConfig &provider, const ChainEntry &entry) const
{
    QJsonObject body{
        {QStringLiteral("model"), entry.model},
        {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                            {QStringLiteral("content"), m_prompt}}}},
        {QStringLiteral("max_tokens"), kMaxTokens},
        {QStringLiteral("stream"), false}};
    ProviderKind::adaptBody(provider.type, entry.model, body);
    UpstreamCall::Request request;
    request.url = ProviderKind::endpoint(provider, QStringLiteral("/chat/completions"));
    request.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    request.timeoutMs = provider.timeoutMs.value_or(m_config->settings.requestTimeoutMs);
    request.headers = ProviderKind::requestHeaders(provider);
    return request;
}

void ChainTester::next()
{
    while (m_next < m_chain.entries.size()) {
        const ChainEntry &entry = m_chain.entries.at(m_next++);
        const ProviderConfig *provider = m_config->provider(entry.provider);
        if (!provider) {
            Result result;
            result.provider = entry.provider;
            result.model = entry.model;
            result.error = tr("Provider %1 is not configured").arg(entry.provider);
            m_results.append(result);
            continue;
        }
        m_timer.start();
        m_call = new UpstreamCall(m_pool, buildRequest(*provider, entry), this);
        connect(m_call, &UpstreamCall::finished, this, &ChainTester::onCallFinished);
        m_call->start();
        return;
    }
    emit finished();
}

void ChainTester::onCallFinished(UpstreamCall::Failure failure, const QString &errorString)
{
    UpstreamCall *call = std::exchange(m_call, nullptr);
    call->deleteLater();
    const ChainEntry &entry = m_chain.entries.at(m_next - 1);
    Result result;
    result.provider = entry.provider;
    result.model = entry.model;
    result.latencyMs = m_timer.elapsed();
    const QByteArray body = call->takeBody();
    const int status = call->status();
    if (failure != UpstreamCall::Failure::None) {
        result.error =
            tr("Provider %1 failed for model %2: %3").arg(entry.provider, entry.model, errorString);
    } else if (status < 200 || status >= 300) {
        result.error = tr("Provider %1 returned %2 for model %3: %4")
                           .arg(entry.provider)
                           .arg(status)
                           .arg(entry.model, errorMessage(body));
    } else {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        if (!doc.isObject()) {
            result.error = tr("Provider %1 answered model %2 with something that is not JSON")
                               .arg(entry.provider, entry.model);
        } else {
            result.ok = true;
            result.raw = doc.object();
            const QJsonObject message = result.raw.value(QLatin1String("choices"))
                                            .toArray()
                                            .first()
                                            .toObject()
                                            .value(QLatin1String("message"))
                                            .toObject();
            QString text = message.value(QLatin1String("content")).toString();
            if (text.isEmpty())
                text = message.value(QLatin1String("reasoning_content")).toString();
            result.response = shorten(text);
            const QJsonObject usage = result.raw.value(QLatin1String("usage")).toObject();
            result.promptTokens = usage.value(QLatin1String("prompt_tokens")).toInteger();
            result.completionTokens = usage.value(QLatin1String("completion_tokens")).toInteger();
            result.totalTokens = usage.value(QLatin1String("total_tokens")).toInteger();
        }
    }
    m_results.append(result);
    next();
}
