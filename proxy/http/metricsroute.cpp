#include "metricsroute.h"

#include "apiserver.h"
#include "metrics.h"
#include "proxyservice.h"
#include "responsewriter.h"

#include <QMap>
#include <QPair>

namespace {

// Every configured pair (0 when idle, so series do not come and go) and every pair the tracker knows.
QList<Metrics::CooldownSample> cooldownSamples(ProxyService &service)
{
    const qint64 now = service.clock().nowMs();
    QMap<QPair<QString, QString>, qint64> remaining;
    for (const ChainConfig &chain : service.config()->chains) {
        for (const ChainEntry &entry : chain.entries)
            remaining.insert({entry.provider, entry.model}, 0);
    }
    for (const RateLimitTracker::TrackedPair &pair : service.tracker().snapshot()) {
        const qint64 left = pair.cooldown ? qMax<qint64>(pair.cooldown->untilMs - now, 0) : 0;
        remaining.insert({pair.provider, pair.model}, left);
    }
    QList<Metrics::CooldownSample> samples;
    for (auto it = remaining.cbegin(); it != remaining.cend(); ++it)
        samples.append({it.key().first, it.key().second, it.value()});
    return samples;
}

} // namespace

void registerMetricsRoute(RouteTable &routes, ProxyService &service, Metrics &metrics,
                          const ApiServer &server)
{
    routes.add(RouteTable::Method::Get, QStringLiteral("/metrics"), RouteTable::Access::Public,
               [&service, &metrics, &server](const RouteContext &context, QHttpServerResponder &&responder) {
                   if (!server.isLoopbackOnly()) {
                       QString label;
                       if (const auto error =
                               server.checkAuth(context.request, RouteTable::Access::ApiKey, &label)) {
                           ApiServer::sendError(std::move(responder), *error);
                           return;
                       }
                   }
                   Metrics::Gauges gauges;
                   gauges.requestsInFlight = service.activeRequests();
                   gauges.cooldowns = cooldownSamples(service);
                   gauges.uptimeSeconds = double(service.uptimeMs()) / 1000.0;
                   ResponseWriter writer(std::move(responder));
                   writer.sendWhole(200, metrics.prometheusText(gauges), {},
                                    QByteArray(Metrics::kContentType));
               });
}
