#pragma once

class ProxyService;
class RouteTable;

// The usage statistics API over the request log (ProxyService::stats()): the reference's
// GET /v1/stats/summary, /providers[/:id], /chains[/:name] and /requests?limit= with the same keys and
// shapes, plus ours: more keys per object, paging and filters on /requests, one request with its attempts
// (/requests/:id), the CSV export of every request the filters match (/requests.csv, RequestCsv's columns)
// and per-provider time series (/timeseries). Without a request log every route answers 503.
void registerStatsRoutes(RouteTable &routes, ProxyService &service);
