#include "healthreport.h"

#include "proxyservice.h"
#include "statssource.h"

namespace HealthReport {

QJsonObject storageJson(const StorageStatus &s, bool withLocation)
{
    QJsonObject out{{QStringLiteral("backend"), s.backend},
                    {QStringLiteral("replica"), s.replica},
                    {QStringLiteral("state"), s.available ? QStringLiteral("ok") : QStringLiteral("down")},
                    {QStringLiteral("bufferedRows"), s.bufferedRows},
                    {QStringLiteral("lostRows"), s.lostRows}};
    if (withLocation)
        out.insert(QStringLiteral("location"), s.location);
    if (!s.available) {
        out.insert(QStringLiteral("reason"), s.reason);
        out.insert(QStringLiteral("downSince"), s.downSinceMs);
    }
    return out;
}

QJsonObject build(const ProxyService &service)
{
    const auto config = service.config();
    QJsonObject out{{QStringLiteral("status"), QStringLiteral("ok")},
                    {QStringLiteral("version"), QStringLiteral(CHAIN_VERSION)},
                    {QStringLiteral("uptime"), double(service.uptimeMs()) / 1000.0},
                    {QStringLiteral("providers"), int(config->providers.size())},
                    {QStringLiteral("chains"), int(config->chains.size())}};
    if (StatsSource *stats = service.stats()) {
        const StorageStatus storage = stats->storageStatus();
        if (!storage.backend.isEmpty()) {
            out.insert(QStringLiteral("storage"), storageJson(storage, false));
            if (!storage.available) {
                out.insert(QStringLiteral("status"), QStringLiteral("degraded"));
                out.insert(QStringLiteral("reason"),
                           QStringLiteral("request log database unavailable (%1 rows buffered): %2")
                               .arg(storage.bufferedRows)
                               .arg(storage.reason));
            }
        }
    }
    return out;
}

} // namespace HealthReport
