#include "eventroutes.h"

#include "apiserver.h"
#include "eventlog.h"
#include "proxyservice.h"
#include "responsewriter.h"
#include "routetable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

namespace {

using Access = RouteTable::Access;
using Method = RouteTable::Method;

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 500;
constexpr int kKeepAliveMs = 15000;
// A follower this far behind is not reading: it is dropped rather than buffered without end.
constexpr qint64 kMaxBacklogBytes = 1024 * 1024;

QJsonValue orNull(const QString &value)
{
    return value.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

QJsonObject eventJson(const EventLog::Event &e)
{
    return QJsonObject{{QStringLiteral("id"), e.id},
                       {QStringLiteral("timestamp"), e.timeMs},
                       {QStringLiteral("kind"), e.kind},
                       {QStringLiteral("level"), e.level},
                       {QStringLiteral("message"), e.message},
                       {QStringLiteral("provider"), orNull(e.provider)},
                       {QStringLiteral("model"), orNull(e.model)},
                       {QStringLiteral("chain"), orNull(e.chain)},
                       {QStringLiteral("until"), e.untilMs > 0 ? QJsonValue(e.untilMs) : QJsonValue()}};
}

QByteArray sseEvent(const EventLog::Event &e)
{
    // Kinds are plain words; anything else is kept off the event line.
    QByteArray kind = e.kind.toUtf8();
    kind.replace('\n', ' ').replace('\r', ' ');
    return "event: " + kind + "\nid: " + QByteArray::number(e.id) +
           "\ndata: " + QJsonDocument(eventJson(e)).toJson(QJsonDocument::Compact) + "\n\n";
}

// One client following the event log over SSE. Ends itself when the client leaves, falls too far behind, or
// the server stops.
class EventFeed : public QObject
{
public:
    EventFeed(QHttpServerResponder &&responder, EventLog &log, qint64 afterId, int limit, ApiServer &server)
        : QObject(&server), m_writer(new ResponseWriter(std::move(responder), this))
    {
        connect(m_writer, &ResponseWriter::clientGone, this, [this] { deleteLater(); });
        connect(&server, &ApiServer::stopping, this, [this] { finish(); });
        connect(&log, &EventLog::eventAdded, this, [this](const EventLog::Event &e) { write(sseEvent(e)); });
        m_keepAlive.setInterval(kKeepAliveMs);
        connect(&m_keepAlive, &QTimer::timeout, this,
                [this] { write(QByteArrayLiteral(": keep-alive\n\n")); });

        m_writer->beginStream(200, {{QByteArrayLiteral("X-Accel-Buffering"), QByteArrayLiteral("no")}},
                              QByteArrayLiteral("text/event-stream"));
        QByteArray backlog = QByteArrayLiteral(": 429chain events\n\n");
        for (const EventLog::Event &e : log.recent(afterId, limit))
            backlog += sseEvent(e);
        write(backlog);
        m_keepAlive.start();
    }

    ~EventFeed() override { m_writer->endStream(); }

private:
    void write(const QByteArray &bytes)
    {
        if (!m_writer->isConnected() || m_writer->pendingBytes() > kMaxBacklogBytes) {
            m_writer->abortConnection();
            deleteLater();
            return;
        }
        m_writer->writeChunk(bytes);
    }

    void finish()
    {
        m_keepAlive.stop();
        m_writer->endStream();
        deleteLater();
    }

    ResponseWriter *m_writer;
    QTimer m_keepAlive;
};

// ?after= or Last-Event-ID, and ?limit=; false (after answering 400) when one is not a number in range.
bool readPosition(const RouteContext &context, qint64 *afterId, int *limit, QHttpServerResponder &responder)
{
    QString after = context.query.queryItemValue(QStringLiteral("after"));
    if (after.isEmpty())
        after = QString::fromLatin1(context.header(QByteArrayLiteral("Last-Event-ID")));
    bool ok = true;
    if (!after.isEmpty()) {
        *afterId = after.trimmed().toLongLong(&ok);
        if (!ok || *afterId < 0) {
            ApiServer::sendError(
                std::move(responder),
                ApiError::invalidRequest(QStringLiteral("Query parameter 'after' must be an event id "
                                                        "(a non-negative integer)."),
                                         QStringLiteral("after"), QStringLiteral("invalid_parameter")));
            return false;
        }
    }
    if (context.query.hasQueryItem(QStringLiteral("limit"))) {
        const int value = context.query.queryItemValue(QStringLiteral("limit")).trimmed().toInt(&ok);
        if (!ok || value < 1) {
            ApiServer::sendError(
                std::move(responder),
                ApiError::invalidRequest(QStringLiteral("Query parameter 'limit' must be between 1 "
                                                        "and %1.")
                                             .arg(kMaxLimit),
                                         QStringLiteral("limit"), QStringLiteral("invalid_parameter")));
            return false;
        }
        *limit = qMin(value, kMaxLimit);
    }
    return true;
}

} // namespace

void registerEventRoutes(RouteTable &routes, ProxyService &service, ApiServer &server)
{
    routes.add(Method::Get, QStringLiteral("/v1/events"), Access::ApiKey,
               [&service, &server](const RouteContext &context, QHttpServerResponder &&responder) {
                   qint64 afterId = 0;
                   int limit = kDefaultLimit;
                   if (!readPosition(context, &afterId, &limit, responder))
                       return;
                   if (context.header(QByteArrayLiteral("Accept")).contains("text/event-stream")) {
                       new EventFeed(std::move(responder), service.events(), afterId, limit, server);
                       return;
                   }
                   QJsonArray events;
                   for (const EventLog::Event &e : service.events().recent(afterId, limit))
                       events.append(eventJson(e));
                   ApiServer::sendObject(std::move(responder), 200, {{QStringLiteral("events"), events}});
               });
}
