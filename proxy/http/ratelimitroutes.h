#pragma once

class ProxyService;
class RouteTable;

// The rate-limit API. GET /v1/ratelimits (proxy key): the reference's shape — every provider+model pair the
// tracker has touched with its status, cooldown and header quota, the entry each chain would try first
// (chains whose entries are all exhausted are left out) and the non-empty request queues — plus ours per
// pair: the limit windows (header, manual or learned) with their reset times, and concurrency slots in use.
// POST /v1/admin/ratelimits/reset (admin key), body {"provider":"groq","model":"…"} (model optional: every
// model of the provider): forgets what the tracker knows about the entry, so it is asked again; 404 for a
// provider the config does not have. Errors are the reference's admin {"error":"<string>"} bodies.
void registerRateLimitRoutes(RouteTable &routes, ProxyService &service);
