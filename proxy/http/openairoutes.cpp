#include "openairoutes.h"

#include "apiserver.h"
#include "embeddingsrequest.h"
#include "embeddingssink.h"
#include "proxyservice.h"
#include "responsesrequest.h"
#include "responsessink.h"
#include "responsewriter.h"
#include "routetable.h"

#include <QJsonObject>

namespace {

using Access = RouteTable::Access;
using Method = RouteTable::Method;

void handleResponses(ProxyService &service, const RouteContext &context, QHttpServerResponder &&responder)
{
    ResponsesRequest parsed;
    if (const auto error = ResponsesRequest::parse(context.request.body(), &parsed)) {
        ApiServer::sendError(std::move(responder), *error);
        return;
    }
    parsed.request.clientKeyLabel = context.keyLabel;
    auto *sink = new ResponsesSink(new ResponseWriter(std::move(responder)), parsed.echo,
                                   parsed.request.estimatedPromptTokens);
    service.startRequest(std::move(parsed.request), sink);
}

void handleEmbeddings(ProxyService &service, const RouteContext &context, QHttpServerResponder &&responder)
{
    EmbeddingsRequest parsed;
    if (const auto error = EmbeddingsRequest::parse(context.request.body(), &parsed)) {
        ApiServer::sendError(std::move(responder), *error);
        return;
    }
    parsed.request.clientKeyLabel = context.keyLabel;
    auto *sink =
        new EmbeddingsSink(new ResponseWriter(std::move(responder)), parsed.clientModel, parsed.base64);
    service.startRequest(std::move(parsed.request), sink);
}

void handleModel(ProxyService &service, const QString &id, QHttpServerResponder &&responder)
{
    for (const auto &m : service.models()) {
        if (m.id != id)
            continue;
        ApiServer::sendObject(std::move(responder), 200,
                              QJsonObject{{QStringLiteral("id"), m.id},
                                          {QStringLiteral("object"), QStringLiteral("model")},
                                          {QStringLiteral("created"), service.clock().nowMs() / 1000},
                                          {QStringLiteral("owned_by"), m.ownedBy}});
        return;
    }
    ApiError error = ApiError::notFound(
        QStringLiteral("The model '%1' does not exist: it is neither a chain nor a model of one (see GET "
                       "/v1/models).")
            .arg(id));
    error.code = QStringLiteral("model_not_found");
    error.param = QStringLiteral("model");
    ApiServer::sendError(std::move(responder), error);
}

} // namespace

void registerOpenAiRoutes(RouteTable &routes, ProxyService &service)
{
    routes.add(Method::Post, QStringLiteral("/v1/responses"), Access::ApiKey,
               [&service](const RouteContext &c, QHttpServerResponder &&r) {
                   handleResponses(service, c, std::move(r));
               });
    routes.add(Method::Post, QStringLiteral("/v1/embeddings"), Access::ApiKey,
               [&service](const RouteContext &c, QHttpServerResponder &&r) {
                   handleEmbeddings(service, c, std::move(r));
               });
    routes.add(Method::Get, QStringLiteral("/v1/models/:id"), Access::ApiKey,
               [&service](const RouteContext &c, QHttpServerResponder &&r) {
                   handleModel(service, c.params.value(QStringLiteral("id")), std::move(r));
               });
    // Model ids with a slash (OpenRouter's "vendor/model"), sent without percent-encoding.
    routes.add(Method::Get, QStringLiteral("/v1/models/:vendor/:id"), Access::ApiKey,
               [&service](const RouteContext &c, QHttpServerResponder &&r) {
                   handleModel(service,
                               c.params.value(QStringLiteral("vendor")) + QLatin1Char('/') +
                                   c.params.value(QStringLiteral("id")),
                               std::move(r));
               });
}
