#pragma once

class ApiServer;
class ProxyService;
class RouteTable;

// GET /v1/events (proxy key): the event log (cooldowns, recoveries, exhausted chains, config changes).
// As JSON, {"events":[…]} oldest first, with ?after=<id> and ?limit=; with `Accept: text/event-stream`, a
// live feed that the web UI follows: the recent events, then each new one as `event: <kind>` / `id: <id>` /
// `data: <json>`, a `: keep-alive` comment every 15 s, and a clean end when the client leaves or the server
// stops (ApiServer::stopping). A reconnecting EventSource resumes after its Last-Event-ID.
void registerEventRoutes(RouteTable &routes, ProxyService &service, ApiServer &server);
