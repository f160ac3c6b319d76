#pragma once

class ApiServer;
class Metrics;
class ProxyService;
class RouteTable;

// GET /metrics: the Prometheus text exposition of `metrics` plus the gauges sampled at scrape time (requests
// in flight from the service, cooldowns from its tracker). Not under /v1, so it is open without a key while
// the server listens on loopback only (a local Prometheus or node agent scrapes it as usual); on any other
// bind address it asks for a proxy or admin key like every /v1 route, so the traffic profile is not public.
void registerMetricsRoute(RouteTable &routes, ProxyService &service, Metrics &metrics,
                          const ApiServer &server);
