#include "staticroutes.h"

#include "responsewriter.h"
#include "routetable.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QLoggingCategory>

#include <memory>

namespace {

Q_LOGGING_CATEGORY(lcWebUi, "chain.http")

const QString kRoot = QStringLiteral(":/webui");
const QString kIndex = QStringLiteral("index.html");

struct WebFile
{
    QByteArray body;
    QByteArray contentType;
    QByteArray etag;
};

using WebFiles = QHash<QString, WebFile>; // file name → file

QByteArray contentTypeOf(const QString &name)
{
    if (name.endsWith(QLatin1String(".html")))
        return QByteArrayLiteral("text/html; charset=utf-8");
    if (name.endsWith(QLatin1String(".js")))
        return QByteArrayLiteral("text/javascript; charset=utf-8");
    if (name.endsWith(QLatin1String(".css")))
        return QByteArrayLiteral("text/css; charset=utf-8");
    if (name.endsWith(QLatin1String(".svg")))
        return QByteArrayLiteral("image/svg+xml");
    if (name.endsWith(QLatin1String(".json")))
        return QByteArrayLiteral("application/json");
    if (name.endsWith(QLatin1String(".png")))
        return QByteArrayLiteral("image/png");
    return QByteArrayLiteral("application/octet-stream");
}

WebFiles loadWebFiles()
{
    WebFiles files;
    const QDir dir(kRoot);
    for (const QString &name : dir.entryList(QDir::Files)) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        WebFile web;
        web.body = file.readAll();
        web.contentType = contentTypeOf(name);
        web.etag =
            '"' + QCryptographicHash::hash(web.body, QCryptographicHash::Sha256).toHex().left(32) + '"';
        files.insert(name, web);
    }
    if (!files.contains(kIndex))
        qCWarning(lcWebUi) << "the web UI is not embedded in this build (no" << kRoot << "/index.html)";
    return files;
}

// Sent with every answer of the web UI, the 304s and 404s included.
ResponseWriter::Headers securityHeaders()
{
    return {
        {QByteArrayLiteral("Content-Security-Policy"),
         QByteArrayLiteral("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'")},
        {QByteArrayLiteral("X-Frame-Options"), QByteArrayLiteral("DENY")},
        {QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff")},
        {QByteArrayLiteral("Referrer-Policy"), QByteArrayLiteral("no-referrer")}};
}

// If-None-Match names this ETag (or is "*"); weak tags compare by their value.
bool notModified(const RouteContext &context, const QByteArray &etag)
{
    const QByteArray header = context.header(QByteArrayLiteral("If-None-Match"));
    for (QByteArray tag : header.split(',')) {
        tag = tag.trimmed();
        if (tag.startsWith("W/"))
            tag = tag.mid(2);
        if (tag == etag || tag == "*")
            return true;
    }
    return false;
}

void sendFile(const RouteContext &context, const WebFile &file, QHttpServerResponder &&responder)
{
    ResponseWriter writer(std::move(responder));
    ResponseWriter::Headers headers = securityHeaders();
    headers.append({QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")});
    headers.append({QByteArrayLiteral("ETag"), file.etag});
    if (notModified(context, file.etag)) {
        writer.sendWhole(304, {}, headers, file.contentType);
        return;
    }
    const bool head = context.request.method() == RouteTable::Method::Head;
    writer.sendWhole(200, head ? QByteArray() : file.body, headers, file.contentType);
}

void sendNotFound(QHttpServerResponder &&responder)
{
    ResponseWriter writer(std::move(responder));
    writer.sendWhole(404, QByteArrayLiteral("Not found\n"), securityHeaders(),
                     QByteArrayLiteral("text/plain; charset=utf-8"));
}

// "/" and the client-side routes get index.html; a missing file ("/app.jss") gets a plain 404, not the page.
void sendAppShell(const WebFiles &files, const RouteContext &context, QHttpServerResponder &&responder)
{
    const QString path = context.request.url().path();
    const QString last = path.section(QLatin1Char('/'), -1);
    const auto index = files.constFind(kIndex);
    if (index == files.cend() || last.contains(QLatin1Char('.'))) {
        sendNotFound(std::move(responder));
        return;
    }
    sendFile(context, *index, std::move(responder));
}

} // namespace

void registerStaticRoutes(RouteTable &routes)
{
    using Access = RouteTable::Access;
    using Method = RouteTable::Method;
    const auto files = std::make_shared<const WebFiles>(loadWebFiles());
    routes.add(Method::Get, QStringLiteral("/"), Access::Public,
               [files](const RouteContext &context, QHttpServerResponder &&responder) {
                   sendAppShell(*files, context, std::move(responder));
               });
    for (auto it = files->cbegin(); it != files->cend(); ++it) {
        const WebFile *file = &it.value();
        routes.add(Method::Get, QLatin1Char('/') + it.key(), Access::Public,
                   [files, file](const RouteContext &context, QHttpServerResponder &&responder) {
                       sendFile(context, *file, std::move(responder));
                   });
    }
}
