#pragma once

#include <QHash>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrlQuery>

#include <functional>

// What a route handler gets: the request (valid only during the call: copy what you keep), the path
// parameters of its pattern, the query, and the label of the key that opened it.
struct RouteContext
{
    const QHttpServerRequest &request;
    QHash<QString, QString> params; // ":id" in the pattern → params["id"], percent-decoded
    QUrlQuery query;
    QString keyLabel; // "key 1", "admin key 2"; empty on public routes

    QByteArray header(const QByteArray &name) const { return headerOf(request, name); }
    // A request header by case-insensitive name; empty when absent.
    static QByteArray headerOf(const QHttpServerRequest &request, const QByteArray &name);
};

// The routes of the API server: method + path pattern ("/v1/stats/providers/:id") + who may call it.
// Registration happens in one place per route group (statsroutes.cpp, adminroutes.cpp, …).
class RouteTable
{
public:
    enum class Access { Public, ApiKey, Admin };
    using Method = QHttpServerRequest::Method;
    using Handler = std::function<void(const RouteContext &context, QHttpServerResponder &&responder)>;

    struct Route
    {
        Method method;
        QStringList segments;
        Access access;
        Handler handler;
    };

    struct Match
    {
        const Route *route = nullptr;
        QHash<QString, QString> params;
        QStringList allowedMethods; // when the path matched but not the method
    };

    void add(Method method, const QString &pattern, Access access, Handler handler);
    Match match(Method method, const QString &path) const;
    // Every registered route, in registration order (the security test walks them all).
    const QList<Route> &all() const { return m_routes; }

private:
    QList<Route> m_routes;
};
