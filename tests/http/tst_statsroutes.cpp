// Integration: the stats API over loopback HTTP against a real request log (RequestStore in a temp dir):
// the reference's keys and shapes per route (plus ours), filters, paging, time series, errors.

#include "harnessstore.h"
#include "httpclient.h"
#include "proxyharness.h"
#include "requestcsv.h"
#include "simulatedprovider.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimeZone>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;

namespace {

// Expected keys per route: the reference's first, then ours.
const QStringList kSummaryKeys{QStringLiteral("totalRequests"), QStringLiteral("waterfallRequests"),
                               QStringLiteral("avgLatencyMs")};
const QStringList kSummaryOurs{QStringLiteral("successfulRequests"), QStringLiteral("totalTokens"),
                               QStringLiteral("requestsToday"), QStringLiteral("tokensToday")};
const QStringList kUsageKeys{QStringLiteral("totalRequests"), QStringLiteral("totalTokens"),
                             QStringLiteral("totalPromptTokens"), QStringLiteral("totalCompletionTokens"),
                             QStringLiteral("lastRequestTimestamp")};
const QStringList kUsageOurs{QStringLiteral("failedRequests")};
const QStringList kRequestKeys{QStringLiteral("id"),
                               QStringLiteral("timestamp"),
                               QStringLiteral("chainName"),
                               QStringLiteral("providerId"),
                               QStringLiteral("model"),
                               QStringLiteral("promptTokens"),
                               QStringLiteral("completionTokens"),
                               QStringLiteral("totalTokens"),
                               QStringLiteral("latencyMs"),
                               QStringLiteral("httpStatus"),
                               QStringLiteral("attempts"),
                               QStringLiteral("errorMessage")};
const QStringList kRequestOurs{QStringLiteral("stream"), QStringLiteral("firstTokenMs"),
                               QStringLiteral("tokensEstimated"), QStringLiteral("clientKeyLabel"),
                               QStringLiteral("replica")};
const QStringList kAttemptKeys{QStringLiteral("provider"),  QStringLiteral("model"),
                               QStringLiteral("outcome"),   QStringLiteral("status"),
                               QStringLiteral("latencyMs"), QStringLiteral("reason")};
const QStringList kPointKeys{
    QStringLiteral("time"),         QStringLiteral("provider"),         QStringLiteral("requests"),
    QStringLiteral("promptTokens"), QStringLiteral("completionTokens"), QStringLiteral("totalTokens")};

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

// The object has every key of `reference` and `ours` and nothing else.
bool hasExactly(const QJsonObject &object, const QStringList &reference, const QStringList &ours = {})
{
    const QStringList want = sorted(reference + ours);
    if (sorted(object.keys()) == want)
        return true;
    qWarning() << "keys" << sorted(object.keys()) << "expected" << want;
    return false;
}

bool isOpenAiError(const HttpClient::Response &r, const QString &param)
{
    const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
    return hasExactly(error, {QStringLiteral("message"), QStringLiteral("type"), QStringLiteral("param"),
                              QStringLiteral("code")}) &&
           error.value(QLatin1String("param")).toString() == param &&
           error.value(QLatin1String("message")).toString().contains(param);
}

QStringList ids(const QJsonArray &rows, const char *key)
{
    QStringList out;
    for (const QJsonValue &v : rows) {
        const QJsonValue id = v.toObject().value(QLatin1String(key));
        out << (id.isString() ? id.toString() : QString::number(id.toInteger()));
    }
    return out;
}

} // namespace

class TestStatsRoutes : public QObject
{
    Q_OBJECT

private:
    QString url(const QString &path) const { return m_harness->url(path); }
    QJsonArray requests(const QString &query)
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/requests") + query));
        if (r.status != 200)
            qWarning() << r.status << r.body;
        return r.json().value(QLatin1String("requests")).toArray();
    }

    std::unique_ptr<SimulatedProvider> m_a;
    std::unique_ptr<SimulatedProvider> m_b;
    std::unique_ptr<ProxyHarness> m_harness;
    std::unique_ptr<HarnessStore> m_store;
    qint64 m_startMs = 0;

private slots:
    // Four requests an hour apart: a serves; a 429s and b serves (a waterfall); b serves chain "other"; a
    // stream.
    void initTestCase()
    {
        m_a = std::make_unique<SimulatedProvider>(SimulatedProvider::Dialect::Groq);
        m_b = std::make_unique<SimulatedProvider>();
        QVERIFY(m_a->listen() && m_b->listen());
        m_harness = std::make_unique<ProxyHarness>();
        m_harness->addProvider(QStringLiteral("a"), m_a.get());
        m_harness->addProvider(QStringLiteral("b"), m_b.get());
        m_harness->addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        m_harness->addChain(QStringLiteral("other"), {QStringLiteral("b/mb")});
        // A whole hour: keeps every request in its own hourly bucket.
        m_harness->clock().set(
            QDateTime(QDate(2024, 5, 1), QTime(10, 0), QTimeZone::utc()).toMSecsSinceEpoch());
        m_startMs = m_harness->clock().nowMs();
        QVERIFY(m_harness->start());
        m_store = std::make_unique<HarnessStore>(*m_harness);
        QVERIFY(m_store->open());

        const QString chat = url(QStringLiteral("/v1/chat/completions"));
        QCOMPARE(HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("default"), false)).status, 200);
        m_harness->clock().advance(3600 * 1000);
        m_a->enqueue(Step::rateLimited(5));
        QCOMPARE(HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("default"), false))
                     .header("X-429chain-Provider"),
                 QByteArray("b/mb"));
        m_harness->clock().advance(3600 * 1000);
        QCOMPARE(HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("other"), false)).status, 200);
        m_harness->clock().advance(3600 * 1000);
        const auto stream = HttpClient::stream(chat, HttpClient::chatBody(QStringLiteral("default"), true));
        QVERIFY(stream.sawDone());
        QTRY_COMPARE(m_harness->records.size(), 4);
        m_store->flush();
    }

    void cleanupTestCase()
    {
        m_store.reset();
        m_harness.reset();
    }

    void summaryHasTheReferenceShape()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/summary")));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("summary")}, {QStringLiteral("storage")}));
        const QJsonObject s = r.json().value(QLatin1String("summary")).toObject();
        // Ours, beside the reference's summary: the store's state.
        const QJsonObject storage = r.json().value(QLatin1String("storage")).toObject();
        QCOMPARE(storage.value(QLatin1String("backend")).toString(), QStringLiteral("sqlite"));
        QCOMPARE(storage.value(QLatin1String("state")).toString(), QStringLiteral("ok"));
        QCOMPARE(storage.value(QLatin1String("lostRows")).toInt(), 0);
        QVERIFY(hasExactly(s, kSummaryKeys, kSummaryOurs));
        QCOMPARE(s.value(QLatin1String("totalRequests")).toInteger(), 4);
        QCOMPARE(s.value(QLatin1String("waterfallRequests")).toInteger(), 1);
        QCOMPARE(s.value(QLatin1String("successfulRequests")).toInteger(), 4);
        QVERIFY(s.value(QLatin1String("avgLatencyMs")).isDouble());
        QVERIFY(s.value(QLatin1String("totalTokens")).toInteger() > 0);
    }

    void providersListAndOne()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/providers")));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("providers")}));
        const QJsonArray list = r.json().value(QLatin1String("providers")).toArray();
        QCOMPARE(list.size(), 2);
        for (const QJsonValue &v : list)
            QVERIFY(
                hasExactly(v.toObject(), kUsageKeys + QStringList{QStringLiteral("providerId")}, kUsageOurs));
        // Newest last request first: a served the stream last.
        QCOMPARE(ids(list, "providerId"), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));

        const auto one = HttpClient::get(url(QStringLiteral("/v1/stats/providers/b")));
        QCOMPARE(one.status, 200);
        QVERIFY(hasExactly(one.json(), kUsageKeys + QStringList{QStringLiteral("providerId")}, kUsageOurs));
        QCOMPARE(one.json().value(QLatin1String("totalRequests")).toInteger(), 2);
        QCOMPARE(one.json().value(QLatin1String("lastRequestTimestamp")).toInteger(),
                 m_startMs + 2 * 3600 * 1000);

        const auto missing = HttpClient::get(url(QStringLiteral("/v1/stats/providers/nobody")));
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json(),
                 (QJsonObject{{QStringLiteral("error"), QStringLiteral("No usage data for provider")}}));
    }

    void chainsListAndOne()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/chains")));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("chains")}));
        const QJsonArray list = r.json().value(QLatin1String("chains")).toArray();
        QCOMPARE(list.size(), 2);
        for (const QJsonValue &v : list)
            QVERIFY(
                hasExactly(v.toObject(), kUsageKeys + QStringList{QStringLiteral("chainName")}, kUsageOurs));

        const auto one = HttpClient::get(url(QStringLiteral("/v1/stats/chains/default")));
        QCOMPARE(one.status, 200);
        QVERIFY(hasExactly(one.json(), kUsageKeys + QStringList{QStringLiteral("chainName")}, kUsageOurs));
        QCOMPARE(one.json().value(QLatin1String("chainName")).toString(), QStringLiteral("default"));
        QCOMPARE(one.json().value(QLatin1String("totalRequests")).toInteger(), 3);

        const auto missing = HttpClient::get(url(QStringLiteral("/v1/stats/chains/none")));
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json(),
                 (QJsonObject{{QStringLiteral("error"), QStringLiteral("No usage data for chain")}}));
    }

    void requestsHaveTheReferenceRowsNewestFirst()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/requests")));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("requests")}));
        const QJsonArray rows = r.json().value(QLatin1String("requests")).toArray();
        QCOMPARE(rows.size(), 4);
        for (const QJsonValue &v : rows)
            QVERIFY(hasExactly(v.toObject(), kRequestKeys, kRequestOurs));
        const QJsonObject newest = rows.first().toObject();
        QCOMPARE(newest.value(QLatin1String("stream")).toBool(), true);
        QVERIFY(newest.value(QLatin1String("firstTokenMs")).isDouble());
        QCOMPARE(newest.value(QLatin1String("clientKeyLabel")).toString(), QStringLiteral("key 1"));
        QVERIFY(newest.value(QLatin1String("errorMessage")).isNull());
        const QJsonObject waterfall = rows.at(2).toObject();
        QCOMPARE(waterfall.value(QLatin1String("providerId")).toString(), QStringLiteral("b"));
        QCOMPARE(waterfall.value(QLatin1String("attempts")).toInteger(), 2);
        QCOMPARE(waterfall.value(QLatin1String("httpStatus")).toInteger(), 200);
        QVERIFY(rows.first().toObject().value(QLatin1String("id")).toInteger() >
                rows.last().toObject().value(QLatin1String("id")).toInteger());
    }

    void requestsPageAndFilter()
    {
        const QJsonArray all = requests(QString());
        const QStringList allIds = ids(all, "id");
        QCOMPARE(ids(requests(QStringLiteral("?limit=2")), "id"), allIds.mid(0, 2));
        QCOMPARE(ids(requests(QStringLiteral("?limit=2&offset=2")), "id"), allIds.mid(2, 2));
        QCOMPARE(ids(requests(QStringLiteral("?limit=5000")), "id"),
                 allIds); // capped at 500, as the reference
        QCOMPARE(ids(requests(QStringLiteral("?before=") + allIds.at(1)), "id"), allIds.mid(2));
        QCOMPARE(ids(requests(QStringLiteral("?chain=other")), "id"), allIds.mid(1, 1));
        QCOMPARE(ids(requests(QStringLiteral("?provider=a")), "id"),
                 (QStringList{allIds.at(0), allIds.at(3)}));
        QCOMPARE(requests(QStringLiteral("?status=200")).size(), 4);
        QCOMPARE(requests(QStringLiteral("?status=2xx")).size(), 4);
        QCOMPARE(requests(QStringLiteral("?status=4xx")).size(), 0);
        QCOMPARE(requests(QStringLiteral("?status=429")).size(), 0);
        // since is inclusive, until exclusive; epoch ms or ISO-8601.
        const qint64 hour = 3600 * 1000;
        QCOMPARE(ids(requests(QStringLiteral("?since=%1").arg(m_startMs + 2 * hour)), "id"),
                 allIds.mid(0, 2));
        QCOMPARE(ids(requests(QStringLiteral("?until=%1").arg(m_startMs + hour)), "id"), allIds.mid(3));
        QCOMPARE(
            ids(requests(QStringLiteral("?since=2024-05-01T11:00:00Z&until=2024-05-01T12:00:00Z")), "id"),
            allIds.mid(2, 1));
        QCOMPARE(requests(QStringLiteral("?since=2024-05-02")).size(), 0);
        QCOMPARE(requests(QStringLiteral("?provider=b&chain=default")).size(), 1);
    }

    // The web UI's export: RequestCsv's columns (the desktop's too), every row the filters match.
    void requestsAsCsv()
    {
        const QStringList allIds = ids(requests(QString()), "id");
        const auto all = HttpClient::get(url(QStringLiteral("/v1/stats/requests.csv")));
        QCOMPARE(all.status, 200);
        QVERIFY(all.header("Content-Type").startsWith("text/csv"));
        QCOMPARE(all.header("X-Rows"), QByteArray::number(allIds.size()));
        const QList<QByteArray> lines = all.body.trimmed().split('\n');
        QCOMPARE(lines.size(), allIds.size() + 1);
        QCOMPARE(lines.first().trimmed(), RequestCsv::header().toUtf8());
        QVERIFY(all.body.contains("\r\n"));
        for (int i = 0; i < allIds.size(); ++i)
            QVERIFY(lines.at(i + 1).startsWith(QByteArray(allIds.at(i).toUtf8() + ',')));

        const auto other = HttpClient::get(url(QStringLiteral("/v1/stats/requests.csv?chain=other")));
        QCOMPARE(other.header("X-Rows"), QByteArray("1"));
        QVERIFY(other.body.contains(",other,b,mb,200,"));
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/stats/requests.csv?status=bad"))).status, 400);
    }

    void badRequestParamsAreNamed_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("param");
        QTest::newRow("limit text") << QStringLiteral("limit=ten") << QStringLiteral("limit");
        QTest::newRow("limit zero") << QStringLiteral("limit=0") << QStringLiteral("limit");
        QTest::newRow("offset negative") << QStringLiteral("offset=-1") << QStringLiteral("offset");
        QTest::newRow("before text") << QStringLiteral("before=x") << QStringLiteral("before");
        QTest::newRow("status word") << QStringLiteral("status=bad") << QStringLiteral("status");
        QTest::newRow("status range") << QStringLiteral("status=700") << QStringLiteral("status");
        QTest::newRow("status class") << QStringLiteral("status=9xx") << QStringLiteral("status");
        QTest::newRow("since") << QStringLiteral("since=yesterday") << QStringLiteral("since");
        QTest::newRow("until") << QStringLiteral("until=2024-13-45") << QStringLiteral("until");
        QTest::newRow("until before since")
            << QStringLiteral("since=2000&until=1000") << QStringLiteral("until");
    }

    void badRequestParamsAreNamed()
    {
        QFETCH(QString, query);
        QFETCH(QString, param);
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/requests?") + query));
        QCOMPARE(r.status, 400);
        QVERIFY2(isOpenAiError(r, param), r.body.constData());
    }

    void oneRequestWithItsAttempts()
    {
        const QJsonArray rows = requests(QStringLiteral("?chain=default&provider=b"));
        QCOMPARE(rows.size(), 1);
        const qint64 id = rows.first().toObject().value(QLatin1String("id")).toInteger();
        const auto r = HttpClient::get(url(QStringLiteral("/v1/stats/requests/%1").arg(id)));
        QCOMPARE(r.status, 200);
        QVERIFY(
            hasExactly(r.json(), kRequestKeys, kRequestOurs + QStringList{QStringLiteral("attemptCount")}));
        const QJsonArray attempts = r.json().value(QLatin1String("attempts")).toArray();
        QCOMPARE(attempts.size(), 2);
        QCOMPARE(r.json().value(QLatin1String("attemptCount")).toInt(), 2);
        for (const QJsonValue &v : attempts)
            QVERIFY(hasExactly(v.toObject(), kAttemptKeys));
        QCOMPARE(attempts.at(0).toObject().value(QLatin1String("provider")).toString(), QStringLiteral("a"));
        QCOMPARE(attempts.at(0).toObject().value(QLatin1String("outcome")).toString(),
                 QStringLiteral("rate_limited"));
        QCOMPARE(attempts.at(0).toObject().value(QLatin1String("status")).toInt(), 429);
        QCOMPARE(attempts.at(1).toObject().value(QLatin1String("outcome")).toString(),
                 QStringLiteral("success"));

        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/stats/requests/999999"))).status, 404);
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/stats/requests/abc"))).status, 404);
    }

    void timeseriesPerHourAndDay()
    {
        const auto r =
            HttpClient::get(url(QStringLiteral("/v1/stats/timeseries?bucket=hour&since=%1").arg(m_startMs)));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("bucket"), QStringLiteral("points")},
                           {QStringLiteral("since")}));
        QCOMPARE(r.json().value(QLatin1String("bucket")).toString(), QStringLiteral("hour"));
        const QJsonArray points = r.json().value(QLatin1String("points")).toArray();
        QCOMPARE(points.size(), 4); // one provider per hour
        qint64 requestsSum = 0;
        for (const QJsonValue &v : points) {
            QVERIFY(hasExactly(v.toObject(), kPointKeys));
            QCOMPARE(v.toObject().value(QLatin1String("time")).toInteger() % (3600 * 1000), 0);
            requestsSum += v.toObject().value(QLatin1String("requests")).toInteger();
        }
        QCOMPARE(requestsSum, 4);

        const auto day =
            HttpClient::get(url(QStringLiteral("/v1/stats/timeseries?bucket=day&since=2024-05-01")));
        QCOMPARE(day.status, 200);
        const QJsonArray perDay = day.json().value(QLatin1String("points")).toArray();
        QCOMPARE(perDay.size(), 2); // a and b, one day
        for (const QJsonValue &v : perDay)
            QCOMPARE(v.toObject().value(QLatin1String("time")).toInteger(), m_startMs - 10 * 3600 * 1000);

        const auto bad = HttpClient::get(url(QStringLiteral("/v1/stats/timeseries?bucket=week")));
        QCOMPARE(bad.status, 400);
        QVERIFY(isOpenAiError(bad, QStringLiteral("bucket")));
    }

    void everyStatsRouteNeedsAKey()
    {
        const HttpClient::Headers wrong{
            {QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer nope")}};
        for (const char *path :
             {"/v1/stats/summary", "/v1/stats/providers", "/v1/stats/requests", "/v1/stats/requests.csv",
              "/v1/stats/timeseries", "/v1/stats/chains/default"}) {
            QCOMPARE(HttpClient::get(url(QLatin1String(path)), wrong).status, 401);
        }
    }

    void withoutARequestLogEveryRouteIs503()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("s"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("s/m")});
        QVERIFY(h.start());
        for (const char *path : {"/v1/stats/summary", "/v1/stats/providers", "/v1/stats/providers/s",
                                 "/v1/stats/chains", "/v1/stats/chains/default", "/v1/stats/requests",
                                 "/v1/stats/requests/1", "/v1/stats/timeseries"}) {
            const auto r = HttpClient::get(h.url(QLatin1String(path)));
            QCOMPARE(r.status, 503);
            const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
            QCOMPARE(error.value(QLatin1String("message")).toString(),
                     QStringLiteral("request log not available"));
            QCOMPARE(error.value(QLatin1String("type")).toString(), QStringLiteral("server_error"));
        }
    }

    void emptyLogHasNullAverage()
    {
        SimulatedProvider sim;
        QVERIFY(sim.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("s"), &sim);
        h.addChain(QStringLiteral("default"), {QStringLiteral("s/m")});
        QVERIFY(h.start());
        HarnessStore store(h);
        QVERIFY(store.open());
        const auto r = HttpClient::get(h.url(QStringLiteral("/v1/stats/summary")));
        QCOMPARE(r.status, 200);
        const QJsonObject s = r.json().value(QLatin1String("summary")).toObject();
        QVERIFY(hasExactly(s, kSummaryKeys, kSummaryOurs));
        QCOMPARE(s.value(QLatin1String("totalRequests")).toInteger(), 0);
        QVERIFY(s.value(QLatin1String("avgLatencyMs")).isNull());
        QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/stats/providers"))).json(),
                 (QJsonObject{{QStringLiteral("providers"), QJsonArray()}}));
        QCOMPARE(HttpClient::get(h.url(QStringLiteral("/v1/stats/requests"))).json(),
                 (QJsonObject{{QStringLiteral("requests"), QJsonArray()}}));
    }
};

QTEST_MAIN(TestStatsRoutes)
#include "tst_statsroutes.moc"
