#pragma once

#include <QJsonObject>

class ProxyService;
struct StorageStatus;

// GET /health's body: "ok", or "degraded" with the reason while the request log's database is away (the
// proxy still serves; rows wait in memory). Also the storage block /v1/stats/summary adds. Used by ApiServer
// and the stats routes.
namespace HealthReport {

QJsonObject build(const ProxyService &service);
// `withLocation`: also the file or database (host, user, name; never the password). /health is public and
// leaves it out; the stats summary (a proxy key) has it.
QJsonObject storageJson(const StorageStatus &status, bool withLocation);

} // namespace HealthReport
