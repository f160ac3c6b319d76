#pragma once

#include "requestrecord.h"

#include <QList>
#include <QString>

#include <functional>
#include <optional>

// The read side of the request log: usage totals, the request list with filters and paging, time series.
// Implemented by chain_storage (RequestStore); the HTTP routes and the GUI read it through ProxyService, from
// any thread (each thread gets its own database connection).
struct UsageTotals
{
    QString key; // provider id or chain name
    qint64 requests = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 totalTokens = 0;
    qint64 lastRequestMs = 0;
    qint64 failures = 0; // requests that ended with status >= 400
};

struct StatsSummary
{
    qint64 totalRequests = 0;
    qint64 waterfallRequests = 0;       // requests that took more than one attempt
    std::optional<qint64> avgLatencyMs; // null on an empty log, as the reference
    qint64 successfulRequests = 0;
    qint64 totalTokens = 0;
    qint64 requestsToday = 0; // since 00:00 UTC
    qint64 tokensToday = 0;
};

struct RequestQuery
{
    int limit = 50; // clamped to 1..500
    int offset = 0;
    qint64 beforeId = 0; // > 0: only rows with a smaller id (stable paging while new rows arrive)
    QString chain;
    QString provider;
    int status = 0;      // exact HTTP status; 0 = any
    int statusClass = 0; // 2, 4 or 5 for 2xx/4xx/5xx; 0 = any
    qint64 sinceMs = 0;  // > 0: started at or after
    qint64 untilMs = 0;  // > 0: started before
};

struct StoredRequest
{
    qint64 id = 0;
    RequestRecord record; // attempts filled only by StatsSource::request()
    int attemptCount = 0;
};

struct TimeseriesPoint
{
    qint64 bucketStartMs = 0;
    QString provider;
    qint64 requests = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 totalTokens = 0;
};

// How the request log's storage is doing, for /health and the stats: a shared database can be down while the
// proxy keeps serving, with the rows waiting in memory (bounded) until it is back.
struct StorageStatus
{
    QString backend;         // "sqlite" or "postgresql"
    QString location;        // the file, or the database as postgresql://user@host:port/db (no password)
    QString replica;         // the name this replica writes into its rows
    bool available = true;   // false while the database cannot be reached
    QString reason;          // why it is not available
    qint64 bufferedRows = 0; // waiting in memory to be written
    qint64 lostRows = 0;     // dropped since start: the buffer was full (or a batch could not be written)
    qint64 downSinceMs = 0;  // when it became unavailable; 0 while available
};

class StatsSource
{
public:
    virtual ~StatsSource() = default;

    // Runs `query` (calls of the members below) where a slow disk delays nobody else: the engine thread that
    // relays tokens must never wait for a stats query. RequestStore runs it on a reader thread of its own and
    // finishes every query handed to it before it is destroyed; `query` must post its answer back to whoever
    // waits for it. The default runs it at once on the calling thread.
    virtual void runQuery(std::function<void()> query) { query(); }

    virtual StatsSummary summary() = 0;
    virtual QList<UsageTotals> providerUsage() = 0; // newest last request first
    virtual std::optional<UsageTotals> providerUsage(const QString &providerId) = 0;
    virtual QList<UsageTotals> chainUsage() = 0;
    virtual std::optional<UsageTotals> chainUsage(const QString &chainName) = 0;
    virtual QList<StoredRequest> requests(const RequestQuery &query) = 0; // newest first
    virtual std::optional<StoredRequest> request(qint64 id) = 0;          // with its attempts
    virtual QList<TimeseriesPoint> timeseries(bool hourly, qint64 sinceMs) = 0;
    // Any thread, never blocks on the database.
    virtual StorageStatus storageStatus() const { return StorageStatus(); }
};
