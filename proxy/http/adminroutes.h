#pragma once

class ProxyService;
class QObject;
class RouteTable;

// The admin API (every route Access::Admin: settings.adminKeys, when set, are the only keys that open it) and
// the chain test. The reference's routes and shapes, with its {"error":"<string>"} bodies: GET
// /v1/admin/config, PUT/DELETE /v1/admin/providers/:id, PUT/DELETE /v1/admin/chains/:name, POST
// /v1/test/chain/:name (proxy key). Ours: POST /v1/admin/chains/:name/rename, GET/PUT /v1/admin/settings,
// POST /v1/admin/reload, GET /v1/admin/providers/:id/models and GET /v1/admin/schema (the config key
// and provider type tables the web UI builds its forms from). The rules live in ProxyService's admin
// operations and jobs (chain tests, model lists); this file only turns JSON into calls (ConfigJson) and
// results into answers.
void registerAdminRoutes(RouteTable &routes, ProxyService &service);
