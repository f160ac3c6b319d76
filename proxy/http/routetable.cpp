#include "routetable.h"

#include <QMetaEnum>
#include <QUrl>

QByteArray RouteContext::headerOf(const QHttpServerRequest &request, const QByteArray &name)
{
    for (const auto &h : request.headers()) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

void RouteTable::add(Method method, const QString &pattern, Access access, Handler handler)
{
    m_routes.append(
        Route{method, pattern.split(QLatin1Char('/'), Qt::SkipEmptyParts), access, std::move(handler)});
}

RouteTable::Match RouteTable::match(Method method, const QString &path) const
{
    const QStringList parts = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    Match result;
    for (const auto &route : m_routes) {
        if (route.segments.size() != parts.size())
            continue;
        QHash<QString, QString> params;
        bool ok = true;
        for (qsizetype i = 0; i < parts.size() && ok; ++i) {
            const QString &seg = route.segments.at(i);
            if (seg.startsWith(QLatin1Char(':')))
                params.insert(seg.mid(1), QUrl::fromPercentEncoding(parts.at(i).toUtf8()));
            else
                ok = seg == parts.at(i);
        }
        if (!ok)
            continue;
        if (route.method == method || (method == Method::Head && route.method == Method::Get)) {
            result.route = &route;
            result.params = std::move(params);
            return result;
        }
        result.allowedMethods
            << QString::fromLatin1(QMetaEnum::fromType<Method>().valueToKey(int(route.method))).toUpper();
    }
    return result;
}
