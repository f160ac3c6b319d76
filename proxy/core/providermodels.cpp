#include "providermodels.h"

#include "chaintester.h"
#include "providerkind.h"
#include "upstreampool.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <limits>
#include <utility>

namespace {

std::optional<qint64> contextLength(const QJsonObject &model)
{
    for (const char *key : {"context_length", "context_window", "max_context_length"}) {
        const QJsonValue v = model.value(QLatin1String(key));
        if (v.isDouble() && v.toDouble() > 0)
            return qint64(v.toDouble());
    }
    const QJsonValue top =
        model.value(QLatin1String("top_provider")).toObject().value(QLatin1String("context_length"));
    if (top.isDouble() && top.toDouble() > 0)
        return qint64(top.toDouble());
    return std::nullopt;
}

// OpenRouter gives prices as decimal strings per token; "0" for both prompt and completion means free, as
// does the ":free" variant suffix. Without prices nothing is known.
std::optional<bool> isFree(const QString &id, const QJsonObject &model)
{
    const QJsonValue pricing = model.value(QLatin1String("pricing"));
    if (!pricing.isObject())
        return id.endsWith(QLatin1String(":free")) ? std::optional<bool>(true) : std::nullopt;
    const auto price = [&pricing](const char *key) {
        const QJsonValue v = pricing.toObject().value(QLatin1String(key));
        bool ok = false;
        const double d = v.isString() ? v.toString().toDouble(&ok) : v.toDouble();
        return v.isString() && !ok ? -1.0 : d;
    };
    return id.endsWith(QLatin1String(":free")) || (price("prompt") == 0.0 && price("completion") == 0.0);
}

} // namespace

ProviderModels::ProviderModels(const ProviderConfig &provider, qint64 timeoutMs, UpstreamPool &pool,
                               QObject *parent)
    : QObject(parent), m_provider(provider), m_timeoutMs(timeoutMs), m_pool(pool)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &ProviderModels::onTimeout);
}

ProviderModels::~ProviderModels()
{
    release();
}

std::optional<QList<ProviderModels::Model>> ProviderModels::parse(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    QJsonArray list;
    if (doc.isArray())
        list = doc.array();
    else if (doc.object().value(QLatin1String("data")).isArray())
        list = doc.object().value(QLatin1String("data")).toArray();
    else if (doc.object().value(QLatin1String("models")).isArray())
        list = doc.object().value(QLatin1String("models")).toArray();
    else
        return std::nullopt;
    QList<Model> models;
    for (const QJsonValue &item : list) {
        const QJsonObject obj = item.toObject();
        QString id = obj.value(QLatin1String("id")).toString();
        if (id.isEmpty())
            id = obj.value(QLatin1String("name")).toString(); // Gemini's native list
        if (id.isEmpty())
            continue;
        models.append(Model{id, contextLength(obj), isFree(id, obj)});
    }
    return models;
}

void ProviderModels::start()
{
    const QUrl url = ProviderKind::endpoint(m_provider, QStringLiteral("/models"));
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setRawHeader(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    request.setRawHeader(QByteArrayLiteral("Accept-Encoding"), QByteArrayLiteral("identity"));
    request.setRawHeader(QByteArrayLiteral("User-Agent"), QByteArrayLiteral("429chain/" CHAIN_VERSION));
    for (const auto &h : ProviderKind::requestHeaders(m_provider))
        request.setRawHeader(h.first, h.second);

    m_hostKey = url.scheme() + QLatin1String("://") + url.host() + QLatin1Char(':') +
                QString::number(url.port(url.scheme() == QLatin1String("https") ? 443 : 80));
    m_manager = m_pool.acquire(m_hostKey);
    m_reply = m_manager->get(request);
    connect(m_reply, &QNetworkReply::finished, this, &ProviderModels::onFinished);
    m_timer.start(int(qBound(qint64(1), m_timeoutMs, qint64(std::numeric_limits<int>::max()))));
}

void ProviderModels::onTimeout()
{
    if (!m_reply)
        return;
    m_timedOut = true;
    m_reply->abort(); // finished() follows at once
}

void ProviderModels::onFinished()
{
    if (!m_reply)
        return;
    m_timer.stop();
    m_status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = m_reply->readAll();
    if (m_timedOut) {
        m_error = tr("no answer from %1 within %2 ms").arg(m_provider.id).arg(m_timeoutMs);
    } else if (m_status == 0) {
        m_error = tr("%1: %2").arg(m_provider.id, m_reply->errorString());
    } else if (m_status < 200 || m_status >= 300) {
        m_error =
            tr("%1 returned %2: %3").arg(m_provider.id).arg(m_status).arg(ChainTester::errorMessage(body));
    } else if (const auto models = parse(body)) {
        m_models = *models;
    } else {
        m_error = tr("%1 returned a model list this proxy does not understand").arg(m_provider.id);
    }
    release();
    emit finished();
}

void ProviderModels::release()
{
    if (!m_reply)
        return;
    m_pool.releaseReply(std::exchange(m_reply, nullptr), this, std::exchange(m_manager, nullptr), m_hostKey);
}
