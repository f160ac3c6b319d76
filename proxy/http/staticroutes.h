#pragma once

class RouteTable;

// The web UI: the files of resources/webui/, embedded with qt_add_resources, served at "/" (index.html) and
// "/<file>" with their content types, an ETag per file (304 on If-None-Match), Cache-Control: no-cache and
// the security headers (a strict Content-Security-Policy, no framing, nosniff, no referrer) on every answer.
// The route for "/" also answers the client-side routes (/providers, /log, …): ApiServer::dispatch hands it
// any GET/HEAD of a non-/v1 path that has no route. Public: the page holds no data, every call it makes needs
// a key.
void registerStaticRoutes(RouteTable &routes);
