#include "statsroutes.h"

#include "apierror.h"
#include "apiserver.h"
#include "healthreport.h"
#include "proxyservice.h"
#include "requestcsv.h"
#include "responsewriter.h"
#include "routetable.h"

#include <QBuffer>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QMutex>
#include <QPointer>
#include <QTcpSocket>
#include <QTimeZone>

#include <functional>
#include <memory>
#include <optional>

namespace {

using Access = RouteTable::Access;
using Method = RouteTable::Method;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;
constexpr qint64 kHourMs = 3600 * 1000;
constexpr qint64 kDayMs = 24 * kHourMs;

// What a stats route answers, built where the query ran and written on the engine thread.
using Answer = std::function<void(QHttpServerResponder &&)>;

// What a query needs of the request, copied: the request object is reused once the handler returns.
struct StatsInput
{
    QHash<QString, QString> params;
    QUrlQuery query;
    qint64 nowMs = 0;
};

Answer objectAnswer(int status, const QJsonObject &object)
{
    return
        [status, object](QHttpServerResponder &&r) { ApiServer::sendObject(std::move(r), status, object); };
}

Answer errorAnswer(const ApiError &error)
{
    return [error](QHttpServerResponder &&r) { ApiServer::sendError(std::move(r), error); };
}

Answer plainErrorAnswer(int status, const QString &message)
{
    return [status, message](QHttpServerResponder &&r) {
        ApiServer::sendPlainError(std::move(r), status, message);
    };
}

// A stats request waiting for its query, on the engine thread. The query's thread hands the answer over
// through the mailbox, which is emptied when this object goes (the service shutting down), so a late answer
// is dropped rather than posted to a deleted object. The responder never leaves the engine thread.
class PendingAnswer : public QObject
{
public:
    struct Mailbox
    {
        QMutex mutex;
        PendingAnswer *target = nullptr;
    };

    PendingAnswer(QHttpServerResponder &&responder, QObject *parent)
        : QObject(parent)
        , m_responder(std::move(responder))
        , m_socket(m_responder.socket())
        , m_mailbox(std::make_shared<Mailbox>())
    {
        m_mailbox->target = this;
    }
    ~PendingAnswer() override
    {
        QMutexLocker lock(&m_mailbox->mutex);
        m_mailbox->target = nullptr;
    }

    std::shared_ptr<Mailbox> mailbox() const { return m_mailbox; }

    // Any thread.
    static void deliver(const std::shared_ptr<Mailbox> &mailbox, Answer answer)
    {
        QMutexLocker lock(&mailbox->mutex);
        if (PendingAnswer *target = mailbox->target) {
            QMetaObject::invokeMethod(
                target,
                [target, answer = std::move(answer)] {
                    if (target->m_socket) // Qt 6.4: the responder holds a raw socket the server may have
                                          // deleted
                        answer(std::move(target->m_responder));
                    delete target;
                },
                Qt::QueuedConnection);
        }
    }

private:
    QHttpServerResponder m_responder;
    QPointer<QTcpSocket> m_socket;
    std::shared_ptr<Mailbox> m_mailbox;
};

QJsonValue nullIfEmpty(const QString &value)
{
    return value.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

QJsonValue nullIfNegative(qint64 value)
{
    return value < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

QJsonObject usageJson(const UsageTotals &usage, const QString &keyName)
{
    return QJsonObject{{keyName, usage.key},
                       {QStringLiteral("totalRequests"), usage.requests},
                       {QStringLiteral("totalTokens"), usage.totalTokens},
                       {QStringLiteral("totalPromptTokens"), usage.promptTokens},
                       {QStringLiteral("totalCompletionTokens"), usage.completionTokens},
                       {QStringLiteral("lastRequestTimestamp"), usage.lastRequestMs > 0
                                                                    ? QJsonValue(usage.lastRequestMs)
                                                                    : QJsonValue(QJsonValue::Null)},
                       // ours
                       {QStringLiteral("failedRequests"), usage.failures}};
}

QJsonObject attemptJson(const AttemptRecord &attempt)
{
    return QJsonObject{
        {QStringLiteral("provider"), attempt.provider},
        {QStringLiteral("model"), attempt.model},
        {QStringLiteral("outcome"), AttemptRecord::outcomeName(attempt.outcome)},
        {QStringLiteral("status"), attempt.status > 0 ? QJsonValue(attempt.status) : QJsonValue()},
        {QStringLiteral("latencyMs"), attempt.latencyMs},
        {QStringLiteral("reason"), attempt.reason}};
}

// The reference's row keys, then ours. `attempts` is the count in lists and the attempt list for one request.
QJsonObject requestJson(const StoredRequest &stored, bool withAttempts)
{
    const RequestRecord &r = stored.record;
    QJsonObject row{{QStringLiteral("id"), stored.id},
                    {QStringLiteral("timestamp"), r.startedAtMs},
                    {QStringLiteral("chainName"), r.chain},
                    {QStringLiteral("providerId"), r.provider},
                    {QStringLiteral("model"), r.model},
                    {QStringLiteral("promptTokens"), r.promptTokens},
                    {QStringLiteral("completionTokens"), r.completionTokens},
                    {QStringLiteral("totalTokens"), r.totalTokens},
                    {QStringLiteral("latencyMs"), r.latencyMs},
                    {QStringLiteral("httpStatus"), r.status},
                    {QStringLiteral("attempts"), stored.attemptCount},
                    {QStringLiteral("errorMessage"), nullIfEmpty(r.error)},
                    {QStringLiteral("stream"), r.stream},
                    {QStringLiteral("firstTokenMs"), nullIfNegative(r.firstTokenMs)},
                    {QStringLiteral("tokensEstimated"), r.tokensEstimated},
                    {QStringLiteral("clientKeyLabel"), nullIfEmpty(r.clientKeyLabel)},
                    {QStringLiteral("replica"), nullIfEmpty(r.replica)}};
    if (withAttempts) {
        QJsonArray attempts;
        for (const AttemptRecord &attempt : r.attempts)
            attempts.append(attemptJson(attempt));
        row.insert(QStringLiteral("attempts"), attempts);
        row.insert(QStringLiteral("attemptCount"), stored.attemptCount);
    }
    return row;
}

ApiError badParam(const QString &param, const QString &message)
{
    return ApiError::invalidRequest(message, param, QStringLiteral("invalid_parameter"));
}

// An integer query parameter in [min, max]; `clampMax` turns larger values into max (the reference's limit).
std::optional<ApiError> readInt(const QUrlQuery &query, const QString &name, qint64 min, qint64 max,
                                bool clampMax, qint64 *out)
{
    if (!query.hasQueryItem(name))
        return std::nullopt;
    const QString text = query.queryItemValue(name, QUrl::FullyDecoded).trimmed();
    bool ok = false;
    qint64 value = text.toLongLong(&ok);
    if (!ok)
        return badParam(
            name, QStringLiteral("Query parameter '%1' must be an integer, got \"%2\".").arg(name, text));
    if (clampMax && value > max)
        value = max;
    if (value < min || value > max) {
        return badParam(
            name,
            QStringLiteral("Query parameter '%1' must be between %2 and %3.").arg(name).arg(min).arg(max));
    }
    *out = value;
    return std::nullopt;
}

// Epoch milliseconds, or an ISO-8601 date or date-time (UTC unless it carries an offset).
std::optional<qint64> parseTime(const QString &text)
{
    bool digits = false;
    const qint64 ms = text.toLongLong(&digits);
    if (digits)
        return ms >= 0 ? std::optional<qint64>(ms) : std::nullopt;
    QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!time.isValid()) {
        const QDate date = QDate::fromString(text, Qt::ISODate);
        if (!date.isValid())
            return std::nullopt;
        time = date.startOfDay(QTimeZone::utc());
    } else if (time.timeSpec() == Qt::LocalTime) {
        time = QDateTime(time.date(), time.time(), QTimeZone::utc());
    }
    return time.toMSecsSinceEpoch();
}

std::optional<ApiError> readTime(const QUrlQuery &query, const QString &name, qint64 *out)
{
    if (!query.hasQueryItem(name))
        return std::nullopt;
    const QString text = query.queryItemValue(name, QUrl::FullyDecoded).trimmed();
    const std::optional<qint64> ms = parseTime(text);
    if (!ms) {
        return badParam(name,
                        QStringLiteral("Query parameter '%1' must be epoch milliseconds or an ISO-8601 time, "
                                       "got \"%2\".")
                            .arg(name, text));
    }
    *out = *ms;
    return std::nullopt;
}

std::optional<ApiError> readStatus(const QUrlQuery &query, RequestQuery *out)
{
    const QString name = QStringLiteral("status");
    if (!query.hasQueryItem(name))
        return std::nullopt;
    const QString text = query.queryItemValue(name, QUrl::FullyDecoded).trimmed().toLower();
    if (text.size() == 3 && text.endsWith(QLatin1String("xx")) && text.at(0) >= QLatin1Char('1') &&
        text.at(0) <= QLatin1Char('5')) {
        out->statusClass = text.at(0).digitValue();
        return std::nullopt;
    }
    bool ok = false;
    const int status = text.toInt(&ok);
    if (!ok || status < 100 || status > 599) {
        return badParam(
            name, QStringLiteral("Query parameter 'status' must be an HTTP status (e.g. 429) or a class "
                                 "(2xx, 4xx, 5xx), got \"%1\".")
                      .arg(text));
    }
    out->status = status;
    return std::nullopt;
}

std::optional<ApiError> parseRequestQuery(const QUrlQuery &query, RequestQuery *out)
{
    qint64 limit = kDefaultLimit;
    qint64 offset = 0;
    if (auto error = readInt(query, QStringLiteral("limit"), 1, kMaxLimit, true, &limit))
        return error;
    if (auto error =
            readInt(query, QStringLiteral("offset"), 0, std::numeric_limits<int>::max(), false, &offset))
        return error;
    if (auto error = readInt(query, QStringLiteral("before"), 1, std::numeric_limits<qint64>::max(), false,
                             &out->beforeId)) {
        return error;
    }
    if (auto error = readStatus(query, out))
        return error;
    if (auto error = readTime(query, QStringLiteral("since"), &out->sinceMs))
        return error;
    if (auto error = readTime(query, QStringLiteral("until"), &out->untilMs))
        return error;
    if (out->sinceMs > 0 && out->untilMs > 0 && out->untilMs <= out->sinceMs)
        return badParam(QStringLiteral("until"),
                        QStringLiteral("Query parameter 'until' must be after 'since'."));
    out->limit = int(limit);
    out->offset = int(offset);
    out->chain = query.queryItemValue(QStringLiteral("chain"), QUrl::FullyDecoded);
    out->provider = query.queryItemValue(QStringLiteral("provider"), QUrl::FullyDecoded);
    return std::nullopt;
}

Answer handleSummary(StatsSource &stats)
{
    const StatsSummary s = stats.summary();
    const QJsonObject summary{{QStringLiteral("totalRequests"), s.totalRequests},
                              {QStringLiteral("waterfallRequests"), s.waterfallRequests},
                              {QStringLiteral("avgLatencyMs"),
                               s.avgLatencyMs ? QJsonValue(*s.avgLatencyMs) : QJsonValue(QJsonValue::Null)},
                              {QStringLiteral("successfulRequests"), s.successfulRequests},
                              {QStringLiteral("totalTokens"), s.totalTokens},
                              {QStringLiteral("requestsToday"), s.requestsToday},
                              {QStringLiteral("tokensToday"), s.tokensToday}};
    // Ours: the storage's state (rows buffered or lost while a shared database was away).
    return objectAnswer(
        200, {{QStringLiteral("summary"), summary},
              {QStringLiteral("storage"), HealthReport::storageJson(stats.storageStatus(), true)}});
}

Answer handleRequests(StatsSource &stats, const StatsInput &input)
{
    RequestQuery query;
    if (const auto error = parseRequestQuery(input.query, &query))
        return errorAnswer(*error);
    QJsonArray rows;
    for (const StoredRequest &stored : stats.requests(query))
        rows.append(requestJson(stored, false));
    return objectAnswer(200, {{QStringLiteral("requests"), rows}});
}

// Every request the filters match (limit, offset and before do not apply), as RequestCsv writes it for the
// desktop's export too.
Answer handleRequestsCsv(StatsSource &stats, const StatsInput &input)
{
    RequestQuery query;
    if (const auto error = parseRequestQuery(input.query, &query))
        return errorAnswer(*error);
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    qint64 rows = 0;
    if (!RequestCsv::writeRows(stats, query, buffer, &rows))
        return plainErrorAnswer(503, QStringLiteral("The export was cancelled: 429chain is shutting down"));
    const QByteArray csv = buffer.data();
    return [csv, rows](QHttpServerResponder &&r) {
        ResponseWriter writer(std::move(r));
        // X-Rows: a cell may hold a line break, so the client cannot count the lines.
        writer.sendWhole(200, csv,
                         {{QByteArrayLiteral("Content-Disposition"),
                           QByteArrayLiteral("attachment; filename=\"429chain-requests.csv\"")},
                          {QByteArrayLiteral("X-Rows"), QByteArray::number(rows)}},
                         QByteArrayLiteral("text/csv; charset=utf-8"));
    };
}

Answer handleRequest(StatsSource &stats, const StatsInput &input)
{
    bool ok = false;
    const qint64 id = input.params.value(QStringLiteral("id")).toLongLong(&ok);
    const std::optional<StoredRequest> stored = ok ? stats.request(id) : std::nullopt;
    if (!stored) {
        // The plain-string error of its sibling routes (/providers/:id, /chains/:name).
        return plainErrorAnswer(404, QStringLiteral("Request not found"));
    }
    return objectAnswer(200, requestJson(*stored, true));
}

Answer handleTimeseries(StatsSource &stats, const StatsInput &input)
{
    const QString bucket = input.query.hasQueryItem(QStringLiteral("bucket"))
                               ? input.query.queryItemValue(QStringLiteral("bucket"), QUrl::FullyDecoded)
                               : QStringLiteral("hour");
    if (bucket != QLatin1String("hour") && bucket != QLatin1String("day")) {
        return errorAnswer(badParam(
            QStringLiteral("bucket"),
            QStringLiteral("Query parameter 'bucket' must be \"hour\" or \"day\", got \"%1\".").arg(bucket)));
    }
    const bool hourly = bucket == QLatin1String("hour");
    qint64 since = input.nowMs - (hourly ? kDayMs : 30 * kDayMs);
    if (const auto error = readTime(input.query, QStringLiteral("since"), &since))
        return errorAnswer(*error);
    QJsonArray points;
    for (const TimeseriesPoint &p : stats.timeseries(hourly, since)) {
        points.append(QJsonObject{{QStringLiteral("time"), p.bucketStartMs},
                                  {QStringLiteral("provider"), p.provider},
                                  {QStringLiteral("requests"), p.requests},
                                  {QStringLiteral("promptTokens"), p.promptTokens},
                                  {QStringLiteral("completionTokens"), p.completionTokens},
                                  {QStringLiteral("totalTokens"), p.totalTokens}});
    }
    return objectAnswer(200, {{QStringLiteral("bucket"), bucket},
                              {QStringLiteral("since"), since},
                              {QStringLiteral("points"), points}});
}

// Registers a GET route that needs the request log: answers 503 when none is attached. The query runs where
// the source runs it (RequestStore: its reader thread), never on the engine thread; the answer is written
// back on the engine thread, if the client is still there.
void addStatsRoute(RouteTable &routes, ProxyService &service, const QString &pattern,
                   std::function<Answer(StatsSource &, const StatsInput &)> handler)
{
    routes.add(Method::Get, pattern, Access::ApiKey,
               [&service, handler = std::move(handler)](const RouteContext &context,
                                                        QHttpServerResponder &&responder) {
                   StatsSource *stats = service.stats();
                   if (!stats) {
                       ApiServer::sendError(std::move(responder),
                                            ApiError::make(503, ApiError::Kind::Server,
                                                           QStringLiteral("stats_unavailable"),
                                                           QStringLiteral("request log not available")));
                       return;
                   }
                   auto *pending = new PendingAnswer(std::move(responder), &service);
                   const std::shared_ptr<PendingAnswer::Mailbox> mailbox = pending->mailbox();
                   StatsInput input{context.params, context.query, service.clock().nowMs()};
                   stats->runQuery([stats, handler, input = std::move(input), mailbox] {
                       PendingAnswer::deliver(mailbox, handler(*stats, input));
                   });
               });
}

} // namespace

void registerStatsRoutes(RouteTable &routes, ProxyService &service)
{
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/summary"),
                  [](StatsSource &stats, const StatsInput &) { return handleSummary(stats); });

    addStatsRoute(routes, service, QStringLiteral("/v1/stats/providers"),
                  [](StatsSource &stats, const StatsInput &) {
                      QJsonArray list;
                      for (const UsageTotals &u : stats.providerUsage())
                          list.append(usageJson(u, QStringLiteral("providerId")));
                      return objectAnswer(200, {{QStringLiteral("providers"), list}});
                  });
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/providers/:id"),
                  [](StatsSource &stats, const StatsInput &input) {
                      const auto usage = stats.providerUsage(input.params.value(QStringLiteral("id")));
                      if (!usage)
                          return plainErrorAnswer(404, QStringLiteral("No usage data for provider"));
                      return objectAnswer(200, usageJson(*usage, QStringLiteral("providerId")));
                  });

    addStatsRoute(routes, service, QStringLiteral("/v1/stats/chains"),
                  [](StatsSource &stats, const StatsInput &) {
                      QJsonArray list;
                      for (const UsageTotals &u : stats.chainUsage())
                          list.append(usageJson(u, QStringLiteral("chainName")));
                      return objectAnswer(200, {{QStringLiteral("chains"), list}});
                  });
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/chains/:name"),
                  [](StatsSource &stats, const StatsInput &input) {
                      const auto usage = stats.chainUsage(input.params.value(QStringLiteral("name")));
                      if (!usage)
                          return plainErrorAnswer(404, QStringLiteral("No usage data for chain"));
                      return objectAnswer(200, usageJson(*usage, QStringLiteral("chainName")));
                  });

    addStatsRoute(routes, service, QStringLiteral("/v1/stats/requests"), handleRequests);
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/requests.csv"), handleRequestsCsv);
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/requests/:id"), handleRequest);
    addStatsRoute(routes, service, QStringLiteral("/v1/stats/timeseries"), handleTimeseries);
}
