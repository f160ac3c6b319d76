// Integration: GET /v1/ratelimits and POST /v1/admin/ratelimits/reset over loopback HTTP, against simulated
// providers and the proxy's own tracker on a manual clock: the reference's keys (plus ours), the entry each
// chain tries first moving on after a scripted 429 and coming back after a reset, header quota while
// tracking, manual limits and concurrency, and who may reset.

#include "httpclient.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;

namespace {

const QByteArray kAdminKey = QByteArrayLiteral("admin-key");
constexpr qint64 kHourS = 3600;

// Expected keys: the reference's first, then ours.
const QStringList kTopKeys{QStringLiteral("ratelimits"), QStringLiteral("activeEntries"),
                           QStringLiteral("queue")};
const QStringList kPairKeys{QStringLiteral("provider"), QStringLiteral("model"),
                            QStringLiteral("status"),   QStringLiteral("cooldownUntil"),
                            QStringLiteral("reason"),   QStringLiteral("quota")};
const QStringList kPairOurs{QStringLiteral("windows"), QStringLiteral("concurrency")};
const QStringList kQuotaKeys{QStringLiteral("remainingRequests"), QStringLiteral("remainingTokens"),
                             QStringLiteral("resetRequestsMs"), QStringLiteral("resetTokensMs"),
                             QStringLiteral("lastUpdated")};
const QStringList kWindowOurs{QStringLiteral("unit"),        QStringLiteral("span"),
                              QStringLiteral("limit"),       QStringLiteral("remaining"),
                              QStringLiteral("resetAt"),     QStringLiteral("source"),
                              QStringLiteral("providerWide")};
const QStringList kConcurrencyOurs{QStringLiteral("inUse"), QStringLiteral("limit")};
const QStringList kActiveKeys{QStringLiteral("chain"), QStringLiteral("provider"), QStringLiteral("model")};

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

HttpClient::Headers bearer(const QByteArray &key)
{
    return {{QByteArrayLiteral("Authorization"), "Bearer " + key}};
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QJsonObject active(const QString &chain, const QString &provider, const QString &model)
{
    return QJsonObject{{QStringLiteral("chain"), chain},
                       {QStringLiteral("provider"), provider},
                       {QStringLiteral("model"), model}};
}

} // namespace

class TestRateLimitRoutes : public QObject
{
    Q_OBJECT

private:
    QString url(const QString &path) const { return m_harness->url(path); }
    QJsonObject limits()
    {
        const auto r = HttpClient::get(url(QStringLiteral("/v1/ratelimits")));
        if (r.status != 200)
            qWarning() << r.status << r.body;
        return r.json();
    }
    // The ratelimits row of one pair; empty when the pair is not listed.
    QJsonObject pair(const QString &provider, const QString &model)
    {
        for (const QJsonValue &v : limits().value(QLatin1String("ratelimits")).toArray()) {
            const QJsonObject o = v.toObject();
            if (o.value(QLatin1String("provider")).toString() == provider &&
                o.value(QLatin1String("model")).toString() == model)
                return o;
        }
        return {};
    }
    QJsonArray activeEntries() { return limits().value(QLatin1String("activeEntries")).toArray(); }
    HttpClient::Response chat(const QString &chain = QStringLiteral("default"))
    {
        return HttpClient::post(url(QStringLiteral("/v1/chat/completions")),
                                HttpClient::chatBody(chain, false));
    }
    HttpClient::Response reset(const QByteArray &body, const QByteArray &key = kAdminKey)
    {
        return HttpClient::post(url(QStringLiteral("/v1/admin/ratelimits/reset")), body, bearer(key));
    }
    // a 429s once with Retry-After: an hour; b serves.
    void exhaustFirstEntry()
    {
        m_a->enqueue(Step::rateLimited(kHourS));
        const auto r = chat();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(m_a->requestCount(), 1);
    }

    std::unique_ptr<SimulatedProvider> m_a;
    std::unique_ptr<SimulatedProvider> m_b;
    std::unique_ptr<ProxyHarness> m_harness;

private slots:
    // Chain "default" = a/ma then b/mb, chain "other" = a/ma2 then b/mb; an admin key apart from the proxy
    // key.
    void init()
    {
        m_a = std::make_unique<SimulatedProvider>();
        m_b = std::make_unique<SimulatedProvider>();
        QVERIFY(m_a->listen() && m_b->listen());
        m_harness = std::make_unique<ProxyHarness>();
        m_harness->addProvider(QStringLiteral("a"), m_a.get());
        m_harness->addProvider(QStringLiteral("b"), m_b.get());
        m_harness->addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        m_harness->addChain(QStringLiteral("other"), {QStringLiteral("a/ma2"), QStringLiteral("b/mb")});
        m_harness->config().settings.adminKeys = {QString::fromLatin1(kAdminKey)};
    }

    void cleanup()
    {
        m_harness.reset();
        m_a.reset();
        m_b.reset();
    }

    void untouchedProxyHasTheReferenceShape()
    {
        QVERIFY(m_harness->start());
        const QJsonObject body = limits();
        QVERIFY(hasExactly(body, kTopKeys));
        QCOMPARE(body.value(QLatin1String("ratelimits")).toArray(), QJsonArray()); // untried pairs are absent
        QCOMPARE(body.value(QLatin1String("activeEntries")).toArray(),
                 (QJsonArray{active(QStringLiteral("default"), QStringLiteral("a"), QStringLiteral("ma")),
                             active(QStringLiteral("other"), QStringLiteral("a"), QStringLiteral("ma2"))}));
        QCOMPARE(body.value(QLatin1String("queue")).toArray(), QJsonArray());
    }

    void needsAKey()
    {
        QVERIFY(m_harness->start());
        const auto r =
            HttpClient::get(url(QStringLiteral("/v1/ratelimits")), bearer(QByteArrayLiteral("wrong")));
        QCOMPARE(r.status, 401);
        // The admin key opens the proxy routes too.
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/ratelimits")), bearer(kAdminKey)).status, 200);
    }

    void exhaustedEntryMovesTheActiveEntry()
    {
        QVERIFY(m_harness->start());
        const qint64 now = m_harness->clock().nowMs();
        exhaustFirstEntry();

        const QJsonObject body = limits();
        QVERIFY(hasExactly(body, kTopKeys));
        for (const QJsonValue &v : body.value(QLatin1String("ratelimits")).toArray()) {
            QVERIFY(hasExactly(v.toObject(), kPairKeys, kPairOurs));
            QVERIFY(
                hasExactly(v.toObject().value(QLatin1String("concurrency")).toObject(), kConcurrencyOurs));
        }
        const QJsonObject a = pair(QStringLiteral("a"), QStringLiteral("ma"));
        QCOMPARE(a.value(QLatin1String("status")).toString(), QStringLiteral("exhausted"));
        QCOMPARE(a.value(QLatin1String("cooldownUntil")).toInteger(), now + kHourS * 1000);
        QVERIFY2(a.value(QLatin1String("reason")).toString().startsWith(QLatin1String("429")),
                 qPrintable(a.value(QLatin1String("reason")).toString()));
        QVERIFY(a.value(QLatin1String("quota")).isNull()); // an exhausted entry has no quota
        QCOMPARE(a.value(QLatin1String("concurrency")).toObject(),
                 (QJsonObject{{QStringLiteral("inUse"), 0}, {QStringLiteral("limit"), QJsonValue()}}));
        QVERIFY(pair(QStringLiteral("a"), QStringLiteral("ma2")).isEmpty()); // per provider+model

        // The next request of "default" starts at b; "other" still starts at a's other model.
        QCOMPARE(body.value(QLatin1String("activeEntries")).toArray(),
                 (QJsonArray{active(QStringLiteral("default"), QStringLiteral("b"), QStringLiteral("mb")),
                             active(QStringLiteral("other"), QStringLiteral("a"), QStringLiteral("ma2"))}));
        QCOMPARE(chat().header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(m_a->requestCount(), 1); // a was not asked again

        // Once the hour is over, a is first again.
        m_harness->clock().advance(kHourS * 1000);
        QCOMPARE(activeEntries().at(0).toObject(),
                 active(QStringLiteral("default"), QStringLiteral("a"), QStringLiteral("ma")));
    }

    void chainWithEveryEntryExhaustedIsLeftOut()
    {
        m_harness->addChain(QStringLiteral("solo"), {QStringLiteral("a/ma")});
        QVERIFY(m_harness->start());
        exhaustFirstEntry();
        const QJsonArray entries = activeEntries();
        QCOMPARE(entries.size(), 2);
        for (const QJsonValue &v : entries) {
            QVERIFY(hasExactly(v.toObject(), kActiveKeys));
            QVERIFY(v.toObject().value(QLatin1String("chain")).toString() != QLatin1String("solo"));
        }
    }

    void resetBringsTheEntryBack()
    {
        QVERIFY(m_harness->start());
        exhaustFirstEntry();
        const auto r = reset(json({{QStringLiteral("provider"), QStringLiteral("a")},
                                   {QStringLiteral("model"), QStringLiteral("ma")}}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json(), (QJsonObject{{QStringLiteral("reset"),
                                         QJsonObject{{QStringLiteral("provider"), QStringLiteral("a")},
                                                     {QStringLiteral("model"), QStringLiteral("ma")}}}}));
        QCOMPARE(activeEntries().at(0).toObject(),
                 active(QStringLiteral("default"), QStringLiteral("a"), QStringLiteral("ma")));
        const QJsonObject a = pair(QStringLiteral("a"), QStringLiteral("ma"));
        QVERIFY(a.isEmpty() || a.value(QLatin1String("status")).toString() != QLatin1String("exhausted"));

        QCOMPARE(chat().header("X-429chain-Provider"), QByteArray("a/ma"));
        QCOMPARE(m_a->requestCount(), 2);
    }

    void resetWithoutModelClearsEveryModel()
    {
        QVERIFY(m_harness->start());
        exhaustFirstEntry();
        m_a->enqueue(Step::rateLimited(kHourS));
        QCOMPARE(chat(QStringLiteral("other")).header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(activeEntries(),
                 (QJsonArray{active(QStringLiteral("default"), QStringLiteral("b"), QStringLiteral("mb")),
                             active(QStringLiteral("other"), QStringLiteral("b"), QStringLiteral("mb"))}));

        // Another model of the same provider is left alone by a reset naming one model.
        QCOMPARE(reset(json({{QStringLiteral("provider"), QStringLiteral("a")},
                             {QStringLiteral("model"), QStringLiteral("ma2")}}))
                     .status,
                 200);
        QCOMPARE(pair(QStringLiteral("a"), QStringLiteral("ma")).value(QLatin1String("status")).toString(),
                 QStringLiteral("exhausted"));

        const auto r = reset(json({{QStringLiteral("provider"), QStringLiteral("a")}}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json(), (QJsonObject{{QStringLiteral("reset"),
                                         QJsonObject{{QStringLiteral("provider"), QStringLiteral("a")},
                                                     {QStringLiteral("model"), QJsonValue()}}}}));
        QCOMPARE(activeEntries(),
                 (QJsonArray{active(QStringLiteral("default"), QStringLiteral("a"), QStringLiteral("ma")),
                             active(QStringLiteral("other"), QStringLiteral("a"), QStringLiteral("ma2"))}));
    }

    void resetNeedsTheAdminKey()
    {
        QVERIFY(m_harness->start());
        exhaustFirstEntry();
        const QByteArray body = json({{QStringLiteral("provider"), QStringLiteral("a")}});
        const auto withProxyKey = reset(body, ProxyHarness::kApiKey);
        QCOMPARE(withProxyKey.status, 403);
        QCOMPARE(withProxyKey.json()
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("code"))
                     .toString(),
                 QStringLiteral("admin_key_required"));
        QCOMPARE(reset(body, QByteArrayLiteral("wrong")).status, 401);
        // Nothing was reset.
        QCOMPARE(activeEntries().at(0).toObject(),
                 active(QStringLiteral("default"), QStringLiteral("b"), QStringLiteral("mb")));
        QCOMPARE(reset(body).status, 200);
    }

    void resetRejectsBadBodies_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("error");
        QTest::newRow("unknown provider") << json({{QStringLiteral("provider"), QStringLiteral("nobody")}})
                                          << 404 << QStringLiteral("Provider not found");
        QTest::newRow("no provider") << json({{QStringLiteral("model"), QStringLiteral("ma")}}) << 400
                                     << QStringLiteral("\"provider\"");
        QTest::newRow("provider not a string")
            << json({{QStringLiteral("provider"), 3}}) << 400 << QStringLiteral("\"provider\"");
        QTest::newRow("model not a string")
            << json({{QStringLiteral("provider"), QStringLiteral("a")}, {QStringLiteral("model"), true}})
            << 400 << QStringLiteral("\"model\"");
        QTest::newRow("not JSON") << QByteArrayLiteral("{provider") << 400 << QStringLiteral("Invalid JSON");
        QTest::newRow("not an object")
            << QByteArrayLiteral("[\"a\"]") << 400 << QStringLiteral("JSON object");
        QTest::newRow("empty") << QByteArray() << 400 << QStringLiteral("Invalid JSON");
    }
    void resetRejectsBadBodies()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, error);
        QVERIFY(m_harness->start());
        const auto r = reset(body);
        QCOMPARE(r.status, status);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("error")})); // the reference's admin error body
        QVERIFY2(r.json().value(QLatin1String("error")).toString().contains(error), r.body.constData());
    }

    void trackingShowsHeaderQuotaAndWindows()
    {
        QVERIFY(m_harness->start());
        m_a->setRequestLimit(10, 60'000); // successes carry the dialect's rate-limit headers
        QCOMPARE(chat().header("X-429chain-Provider"), QByteArray("a/ma"));

        const QJsonObject a = pair(QStringLiteral("a"), QStringLiteral("ma"));
        QVERIFY(hasExactly(a, kPairKeys, kPairOurs));
        QCOMPARE(a.value(QLatin1String("status")).toString(), QStringLiteral("tracking"));
        QVERIFY(a.value(QLatin1String("cooldownUntil")).isNull());
        const QJsonObject quota = a.value(QLatin1String("quota")).toObject();
        QVERIFY(hasExactly(quota, kQuotaKeys));
        QCOMPARE(quota.value(QLatin1String("remainingRequests")).toInteger(), 9);
        QVERIFY(quota.value(QLatin1String("resetRequestsMs")).isDouble());
        QVERIFY(quota.value(QLatin1String("lastUpdated")).toInteger() > 0);

        const QJsonArray windows = a.value(QLatin1String("windows")).toArray();
        QVERIFY(!windows.isEmpty());
        bool sawRequests = false;
        for (const QJsonValue &v : windows) {
            const QJsonObject w = v.toObject();
            QVERIFY(hasExactly(w, {}, kWindowOurs));
            QCOMPARE(w.value(QLatin1String("source")).toString(), QStringLiteral("header"));
            if (w.value(QLatin1String("unit")).toString() == QLatin1String("requests")) {
                sawRequests = true;
                QCOMPARE(w.value(QLatin1String("limit")).toInteger(), 10);
                QCOMPARE(w.value(QLatin1String("remaining")).toInteger(), 9);
                QVERIFY(w.value(QLatin1String("resetAt")).toInteger() > m_harness->clock().nowMs());
            }
        }
        QVERIFY(sawRequests);
    }

    void manualLimitsAndConcurrencyAreShown()
    {
        ManualRateLimits manual;
        manual.requestsPerMinute = 2;
        manual.concurrentRequests = 3;
        m_harness->config().providers[1].rateLimits = manual; // b
        QVERIFY(m_harness->start());
        QCOMPARE(chat(QStringLiteral("other")).header("X-429chain-Provider"), QByteArray("a/ma2"));
        m_a->enqueue(Step::rateLimited(kHourS));
        QCOMPARE(chat().header("X-429chain-Provider"), QByteArray("b/mb"));

        const QJsonObject b = pair(QStringLiteral("b"), QStringLiteral("mb"));
        QVERIFY(hasExactly(b, kPairKeys, kPairOurs));
        QCOMPARE(b.value(QLatin1String("concurrency")).toObject(),
                 (QJsonObject{{QStringLiteral("inUse"), 0}, {QStringLiteral("limit"), 3}}));
        QJsonObject rpm;
        for (const QJsonValue &v : b.value(QLatin1String("windows")).toArray()) {
            if (v.toObject().value(QLatin1String("source")).toString() == QLatin1String("manual"))
                rpm = v.toObject();
        }
        QVERIFY(hasExactly(rpm, {}, kWindowOurs));
        QCOMPARE(rpm.value(QLatin1String("unit")).toString(), QStringLiteral("requests"));
        QCOMPARE(rpm.value(QLatin1String("span")).toString(), QStringLiteral("minute"));
        QCOMPARE(rpm.value(QLatin1String("limit")).toInteger(), 2);
        QCOMPARE(rpm.value(QLatin1String("remaining")).toInteger(), 1);

        // The second request of the minute uses b up: "default" has nothing left to try first.
        QCOMPARE(chat().header("X-429chain-Provider"), QByteArray("b/mb"));
        QCOMPARE(pair(QStringLiteral("b"), QStringLiteral("mb")).value(QLatin1String("status")).toString(),
                 QStringLiteral("exhausted"));
        QCOMPARE(activeEntries(),
                 (QJsonArray{active(QStringLiteral("other"), QStringLiteral("a"), QStringLiteral("ma2"))}));
    }
};

QTEST_GUILESS_MAIN(TestRateLimitRoutes)
#include "tst_ratelimitroutes.moc"
