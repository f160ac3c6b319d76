#include "adminroutes.h"

#include "apiserver.h"
#include "chaintester.h"
#include "configjson.h"
#include "providermodels.h"
#include "proxyservice.h"
#include "responsewriter.h"
#include "routetable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

using Access = RouteTable::Access;
using Method = RouteTable::Method;
using Responder = QHttpServerResponder;

// The request body as a JSON object; an empty body is an empty object when `emptyIsObject`.
bool readBody(const RouteContext &context, bool emptyIsObject, QJsonObject *out, Responder &responder)
{
    const QByteArray body = context.request.body();
    if (body.trimmed().isEmpty() && emptyIsObject)
        return true;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  error.error != QJsonParseError::NoError
                                      ? QStringLiteral("Invalid JSON body: %1").arg(error.errorString())
                                      : QStringLiteral("The body must be a JSON object"));
        return false;
    }
    *out = doc.object();
    return true;
}

// A successful admin answer: `object` plus the operation's message, if it has one.
void sendResult(Responder &&responder, const AdminResult &result, QJsonObject object)
{
    if (!result.ok()) {
        ApiServer::sendPlainError(std::move(responder), result.status, result.error);
        return;
    }
    if (!result.message.isEmpty())
        object.insert(QStringLiteral("message"), result.message);
    ApiServer::sendObject(std::move(responder), 200, object);
}

void putProvider(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    const QString id = context.params.value(QStringLiteral("id"));
    QJsonObject json;
    if (!readBody(context, false, &json, responder))
        return;
    if (!json.contains(QStringLiteral("id")))
        json.insert(QStringLiteral("id"), id);
    if (json.value(QStringLiteral("id")) != QJsonValue(id)) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  QStringLiteral("Provider ID in path must match ID in body"));
        return;
    }
    QString error;
    const auto input = ConfigJson::providerFromJson(json, service.config()->provider(id), &error);
    if (!input) {
        ApiServer::sendPlainError(std::move(responder), 400, error);
        return;
    }
    const AdminResult result = service.upsertProvider(input->provider, input->keepExistingKey);
    const ProviderConfig *stored = service.config()->provider(id);
    sendResult(
        std::move(responder), result,
        {{QStringLiteral("provider"), ConfigJson::providerToJson(stored ? *stored : input->provider)}});
}

void putChain(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    const QString name = context.params.value(QStringLiteral("name"));
    QJsonObject json;
    if (!readBody(context, false, &json, responder))
        return;
    QString error;
    const auto chain = ConfigJson::chainFromJson(name, json, &error);
    if (!chain) {
        ApiServer::sendPlainError(std::move(responder), 400, error);
        return;
    }
    const AdminResult result = service.upsertChain(*chain);
    sendResult(std::move(responder), result, {{QStringLiteral("chain"), ConfigJson::chainToJson(*chain)}});
}

void renameChain(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    const QString from = context.params.value(QStringLiteral("name"));
    QJsonObject json;
    if (!readBody(context, false, &json, responder))
        return;
    const QString to = json.value(QStringLiteral("name")).toString();
    if (to.isEmpty() || json.size() != 1) {
        ApiServer::sendPlainError(std::move(responder), 400,
                                  QStringLiteral("The body must be {\"name\": \"<new chain name>\"}"));
        return;
    }
    const AdminResult result = service.renameChain(from, to);
    const ChainConfig *chain = service.config()->chain(to);
    QJsonObject object{{QStringLiteral("renamed"), from}};
    if (result.ok() && chain)
        object.insert(QStringLiteral("chain"), ConfigJson::chainToJson(*chain));
    sendResult(std::move(responder), result, object);
}

void putSettings(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    QJsonObject json;
    if (!readBody(context, false, &json, responder))
        return;
    // Also take back what GET answers: {"settings": {…}}.
    if (json.size() == 1 && json.value(QStringLiteral("settings")).isObject())
        json = json.value(QStringLiteral("settings")).toObject();
    QString error;
    const auto settings = ConfigJson::settingsFromJson(json, service.config()->settings, &error);
    if (!settings) {
        ApiServer::sendPlainError(std::move(responder), 400, error);
        return;
    }
    const AdminResult result = service.updateSettings(*settings);
    sendResult(std::move(responder), result,
               {{QStringLiteral("settings"), ConfigJson::settingsToJson(service.config()->settings)}});
}

void listModels(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    ProviderModels *fetch = service.createModelFetch(context.params.value(QStringLiteral("id")));
    if (!fetch) {
        ApiServer::sendPlainError(std::move(responder), 404, QStringLiteral("Provider not found"));
        return;
    }
    auto *writer = new ResponseWriter(std::move(responder), fetch);
    QObject::connect(fetch, &ProviderModels::finished, fetch, [fetch, writer] {
        if (!fetch->ok()) {
            QJsonObject body{{QStringLiteral("error"), fetch->errorString()}};
            if (fetch->upstreamStatus() > 0)
                body.insert(QStringLiteral("upstreamStatus"), fetch->upstreamStatus());
            writer->sendWhole(502, QJsonDocument(body).toJson(QJsonDocument::Compact));
        } else {
            QJsonArray models;
            for (const ProviderModels::Model &m : fetch->models()) {
                models.append(
                    QJsonObject{{QStringLiteral("id"), m.id},
                                {QStringLiteral("contextLength"),
                                 m.contextLength ? QJsonValue(*m.contextLength) : QJsonValue()},
                                {QStringLiteral("free"), m.free ? QJsonValue(*m.free) : QJsonValue()}});
            }
            writer->sendWhole(200, QJsonDocument(QJsonObject{{QStringLiteral("models"), models}})
                                       .toJson(QJsonDocument::Compact));
        }
        fetch->deleteLater();
    });
    fetch->start();
}

QJsonObject testResultJson(const ChainTester::Result &r)
{
    QJsonObject out{{QStringLiteral("provider"), r.provider},
                    {QStringLiteral("model"), r.model},
                    {QStringLiteral("status"), r.ok ? QStringLiteral("ok") : QStringLiteral("error")},
                    {QStringLiteral("latencyMs"), r.latencyMs}};
    if (r.ok) {
        out.insert(QStringLiteral("response"), r.response);
        out.insert(QStringLiteral("tokens"), QJsonObject{{QStringLiteral("prompt"), r.promptTokens},
                                                         {QStringLiteral("completion"), r.completionTokens},
                                                         {QStringLiteral("total"), r.totalTokens}});
        out.insert(QStringLiteral("raw"), r.raw);
    } else {
        out.insert(QStringLiteral("error"), r.error);
    }
    return out;
}

void testChain(ProxyService &service, const RouteContext &context, Responder &&responder)
{
    const QString name = context.params.value(QStringLiteral("name"));
    // As the reference: a body that is not JSON, or has no string prompt, tests with the default prompt.
    const QJsonObject body = QJsonDocument::fromJson(context.request.body()).object();
    ChainTester *tester = service.createChainTest(name, body.value(QStringLiteral("prompt")).toString());
    if (!tester) {
        ApiServer::sendPlainError(std::move(responder), 404,
                                  QStringLiteral("Chain \"%1\" not found").arg(name));
        return;
    }
    auto *writer = new ResponseWriter(std::move(responder), tester);
    QObject::connect(tester, &ChainTester::finished, tester, [tester, writer, name] {
        QJsonArray results;
        int ok = 0;
        for (const ChainTester::Result &r : tester->results()) {
            results.append(testResultJson(r));
            ok += r.ok ? 1 : 0;
        }
        const int total = int(tester->results().size());
        const QJsonObject answer{
            {QStringLiteral("chain"), name},
            {QStringLiteral("results"), results},
            {QStringLiteral("summary"), QJsonObject{{QStringLiteral("total"), total},
                                                    {QStringLiteral("ok"), ok},
                                                    {QStringLiteral("failed"), total - ok}}}};
        writer->sendWhole(200, QJsonDocument(answer).toJson(QJsonDocument::Compact));
        tester->deleteLater();
    });
    tester->start();
}

} // namespace

void registerAdminRoutes(RouteTable &routes, ProxyService &service)
{
    routes.add(Method::Get, QStringLiteral("/v1/admin/schema"), Access::Admin,
               [](const RouteContext &, Responder &&r) {
                   ApiServer::sendObject(std::move(r), 200, ConfigJson::schemaJson());
               });
    routes.add(Method::Get, QStringLiteral("/v1/admin/config"), Access::Admin,
               [&service](const RouteContext &, Responder &&r) {
                   ApiServer::sendObject(std::move(r), 200, ConfigJson::configToJson(*service.config()));
               });

    routes.add(Method::Put, QStringLiteral("/v1/admin/providers/:id"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) { putProvider(service, c, std::move(r)); });
    routes.add(Method::Delete, QStringLiteral("/v1/admin/providers/:id"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) {
                   const QString id = c.params.value(QStringLiteral("id"));
                   sendResult(std::move(r), service.deleteProvider(id), {{QStringLiteral("deleted"), id}});
               });
    routes.add(Method::Get, QStringLiteral("/v1/admin/providers/:id/models"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) { listModels(service, c, std::move(r)); });

    routes.add(Method::Put, QStringLiteral("/v1/admin/chains/:name"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) { putChain(service, c, std::move(r)); });
    routes.add(Method::Delete, QStringLiteral("/v1/admin/chains/:name"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) {
                   const QString name = c.params.value(QStringLiteral("name"));
                   sendResult(std::move(r), service.deleteChain(name), {{QStringLiteral("deleted"), name}});
               });
    routes.add(Method::Post, QStringLiteral("/v1/admin/chains/:name/rename"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) { renameChain(service, c, std::move(r)); });

    routes.add(Method::Get, QStringLiteral("/v1/admin/settings"), Access::Admin,
               [&service](const RouteContext &, Responder &&r) {
                   ApiServer::sendObject(std::move(r), 200,
                                         {{QStringLiteral("settings"),
                                           ConfigJson::settingsToJson(service.config()->settings)}});
               });
    routes.add(Method::Put, QStringLiteral("/v1/admin/settings"), Access::Admin,
               [&service](const RouteContext &c, Responder &&r) { putSettings(service, c, std::move(r)); });
    routes.add(Method::Post, QStringLiteral("/v1/admin/reload"), Access::Admin,
               [&service](const RouteContext &, Responder &&r) {
                   sendResult(std::move(r), service.reloadFromDisk(), {{QStringLiteral("reloaded"), true}});
               });

    routes.add(Method::Post, QStringLiteral("/v1/test/chain/:name"), Access::ApiKey,
               [&service](const RouteContext &c, Responder &&r) { testChain(service, c, std::move(r)); });
}
