#pragma once

class ProxyService;
class RouteTable;

// The OpenAI routes beside chat completions: POST /v1/responses (the Responses API, translated by
// ResponsesRequest / ResponsesSink), POST /v1/embeddings (EmbeddingsRequest / EmbeddingsSink, over the same
// chains and waterfall) and GET /v1/models/{id} (a chain or a model as /v1/models lists it, else 404).
void registerOpenAiRoutes(RouteTable &routes, ProxyService &service);
