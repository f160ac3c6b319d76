#include "ratelimitroutes.h"

#include "apiserver.h"
#include "proxyservice.h"
#include "ratelimittracker.h"
#include "routetable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <optional>

namespace {

using Access = RouteTable::Access;
using Method = RouteTable::Method;
using PairStatus = RateLimitTracker::PairStatus;
using QuotaStatus = RateLimitTracker::QuotaStatus;
using WindowStatus = RateLimitTracker::WindowStatus;

template<typename T> QJsonValue optionalJson(const std::optional<T> &value)
{
    return value ? QJsonValue(qint64(*value)) : QJsonValue(QJsonValue::Null);
}

QJsonValue timeOrNull(qint64 ms)
{
    return ms > 0 ? QJsonValue(ms) : QJsonValue(QJsonValue::Null);
}

QJsonValue quotaJson(const std::optional<QuotaStatus> &quota)
{
    if (!quota)
        return QJsonValue(QJsonValue::Null);
    return QJsonObject{{QStringLiteral("remainingRequests"), optionalJson(quota->remainingRequests)},
                       {QStringLiteral("remainingTokens"), optionalJson(quota->remainingTokens)},
                       {QStringLiteral("resetRequestsMs"), optionalJson(quota->resetRequestsMs)},
                       {QStringLiteral("resetTokensMs"), optionalJson(quota->resetTokensMs)},
                       {QStringLiteral("lastUpdated"), quota->lastUpdated}};
}

QJsonObject windowJson(const WindowStatus &window)
{
    return QJsonObject{{QStringLiteral("unit"), LimitWindow::unitName(window.unit)},
                       {QStringLiteral("span"), LimitWindow::spanName(window.span)},
                       {QStringLiteral("limit"), optionalJson(window.limit)},
                       {QStringLiteral("remaining"), optionalJson(window.remaining)},
                       {QStringLiteral("resetAt"), timeOrNull(window.resetAtMs)},
                       {QStringLiteral("source"), window.source},
                       {QStringLiteral("providerWide"), window.providerWide}};
}

// The reference's keys, then ours (windows, concurrency).
QJsonObject pairJson(const PairStatus &pair)
{
    QJsonArray windows;
    for (const WindowStatus &window : pair.windows)
        windows.append(windowJson(window));
    return QJsonObject{{QStringLiteral("provider"), pair.provider},
                       {QStringLiteral("model"), pair.model},
                       {QStringLiteral("status"), pair.stateName()},
                       {QStringLiteral("cooldownUntil"), timeOrNull(pair.cooldownUntilMs)},
                       {QStringLiteral("reason"), pair.reason},
                       {QStringLiteral("quota"), quotaJson(pair.quota)},
                       {QStringLiteral("windows"), windows},
                       {QStringLiteral("concurrency"),
                        QJsonObject{{QStringLiteral("inUse"), pair.inUse},
                                    {QStringLiteral("limit"), optionalJson(pair.concurrencyLimit)}}}};
}

// What the next request of each chain would try first: the first entry the tracker would not refuse for
// lack of quota (full concurrency slots free up within a request, so they do not count), with the same
// verdict status() uses. Chains with no such entry are left out.
QJsonArray activeEntries(ProxyService &service)
{
    using Block = RateLimitTracker::Admission::Block;
    QJsonArray out;
    for (const ChainConfig &chain : service.config()->chains) {
        for (const ChainEntry &entry : chain.entries) {
            const auto verdict = service.tracker().check(entry.provider, entry.model, 0);
            if (!verdict.allowed() && verdict.block != Block::Concurrency)
                continue;
            out.append(QJsonObject{{QStringLiteral("chain"), chain.name},
                                   {QStringLiteral("provider"), entry.provider},
                                   {QStringLiteral("model"), entry.model}});
            break;
        }
    }
    return out;
}

// The reference's queue stats: chains with requests waiting (queue mode).
QJsonArray queueJson(ProxyService &service)
{
    QJsonArray out;
    for (const RequestQueue::QueueStats &s : service.queue().stats())
        out.append(QJsonObject{{QStringLiteral("chainName"), s.chainName},
                               {QStringLiteral("depth"), s.depth},
                               {QStringLiteral("oldestItemAgeMs"), s.oldestItemAgeMs}});
    return out;
}

void getRateLimits(ProxyService &service, QHttpServerResponder &&responder)
{
    QJsonArray ratelimits;
    for (const PairStatus &pair : service.tracker().status())
        ratelimits.append(pairJson(pair));
    ApiServer::sendObject(std::move(responder), 200,
                          QJsonObject{{QStringLiteral("ratelimits"), ratelimits},
                                      {QStringLiteral("activeEntries"), activeEntries(service)},
                                      {QStringLiteral("queue"), queueJson(service)}});
}

void resetRateLimits(ProxyService &service, const RouteContext &context, QHttpServerResponder &&responder)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(context.request.body(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  error.error != QJsonParseError::NoError
                                      ? QStringLiteral("Invalid JSON body: %1").arg(error.errorString())
                                      : QStringLiteral("The body must be a JSON object"));
        return;
    }
    const QJsonObject body = doc.object();
    const QJsonValue providerValue = body.value(QLatin1String("provider"));
    const QJsonValue modelValue = body.value(QLatin1String("model"));
    if (!providerValue.isString() || providerValue.toString().isEmpty()) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  QStringLiteral("\"provider\" must be a provider id (a non-empty string)"));
        return;
    }
    if (!modelValue.isUndefined() && !modelValue.isNull() && !modelValue.isString()) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  QStringLiteral("\"model\" must be a string (or absent for every model)"));
        return;
    }
    const QString provider = providerValue.toString();
    const QString model = modelValue.toString();
    bool known = false;
    for (const ProviderConfig &p : service.config()->providers)
        known = known || p.id == provider;
    if (!known) {
        ApiServer::sendPlainError(std::move(responder), 404, QStringLiteral("Provider not found"));
        return;
    }
    service.tracker().reset(provider, model);
    ApiServer::sendObject(
        std::move(responder), 200,
        QJsonObject{{QStringLiteral("reset"),
                     QJsonObject{{QStringLiteral("provider"), provider},
                                 {QStringLiteral("model"),
                                  model.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(model)}}}});
}

} // namespace

void registerRateLimitRoutes(RouteTable &routes, ProxyService &service)
{
    routes.add(Method::Get, QStringLiteral("/v1/ratelimits"), Access::ApiKey,
               [&service](const RouteContext &, QHttpServerResponder &&responder) {
                   getRateLimits(service, std::move(responder));
               });
    routes.add(Method::Post, QStringLiteral("/v1/admin/ratelimits/reset"), Access::Admin,
               [&service](const RouteContext &context, QHttpServerResponder &&responder) {
                   resetRateLimits(service, context, std::move(responder));
               });
}
