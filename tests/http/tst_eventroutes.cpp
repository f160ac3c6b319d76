// Integration: GET /v1/events over loopback, as a JSON list and as a live SSE feed: a 429 upstream shows up
// as a cooldown event in both, the feed replays recent events first, and it ends cleanly when the server
// stops or drops its resources when the client leaves.

#include "httpclient.h"
#include "proxyharness.h"
#include "responsewriter.h"
#include "simulatedprovider.h"
#include "sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;

namespace {

const QStringList kEventKeys{QStringLiteral("id"),    QStringLiteral("timestamp"), QStringLiteral("kind"),
                             QStringLiteral("level"), QStringLiteral("message"),   QStringLiteral("provider"),
                             QStringLiteral("model"), QStringLiteral("chain"),     QStringLiteral("until")};

// Follows an SSE URL in the background (the test's event loop runs it) and keeps what arrives.
class Follower : public QObject
{
public:
    Follower(const QString &url, const QByteArray &lastEventId = {})
    {
        QNetworkRequest request{QUrl(url)};
        request.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer test-key"));
        request.setRawHeader(QByteArrayLiteral("Accept"), QByteArrayLiteral("text/event-stream"));
        if (!lastEventId.isEmpty())
            request.setRawHeader(QByteArrayLiteral("Last-Event-ID"), lastEventId);
        m_reply = m_manager.get(request);
        connect(m_reply, &QNetworkReply::readyRead, this,
                [this] { m_parser.feed(m_reply->readAll(), events); });
        connect(m_reply, &QNetworkReply::finished, this, [this] { finished = true; });
    }

    QNetworkReply *reply() const { return m_reply; }
    QList<SseEvent> dataEvents(const QByteArray &kind) const
    {
        QList<SseEvent> out;
        for (const SseEvent &e : events) {
            if (e.kind == SseEvent::Kind::Data && e.event == kind)
                out << e;
        }
        return out;
    }

    QList<SseEvent> events;
    bool finished = false;

private:
    QNetworkAccessManager m_manager;
    QNetworkReply *m_reply = nullptr;
    SseParser m_parser;
};

QJsonObject dataOf(const SseEvent &e)
{
    return QJsonDocument::fromJson(e.data).object();
}

} // namespace

class TestEventRoutes : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<SimulatedProvider> m_a;
    std::unique_ptr<SimulatedProvider> m_b;
    std::unique_ptr<ProxyHarness> m_h;

    QString url(const QString &path) const { return m_h->url(path); }
    int chat()
    {
        return HttpClient::post(url(QStringLiteral("/v1/chat/completions")),
                                HttpClient::chatBody(QStringLiteral("default"), false))
            .status;
    }
    int feedWriters() const { return int(m_h->server().findChildren<ResponseWriter *>().size()); }

private slots:
    void init()
    {
        m_a = std::make_unique<SimulatedProvider>(SimulatedProvider::Dialect::Groq);
        m_b = std::make_unique<SimulatedProvider>();
        QVERIFY(m_a->listen() && m_b->listen());
        m_h = std::make_unique<ProxyHarness>();
        m_h->addProvider(QStringLiteral("a"), m_a.get());
        m_h->addProvider(QStringLiteral("b"), m_b.get());
        m_h->addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        QVERIFY(m_h->start());
    }

    void cleanup()
    {
        m_h.reset();
        m_a.reset();
        m_b.reset();
    }

    void listShowsACooldownAfterA429()
    {
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/events"))).json(),
                 (QJsonObject{{QStringLiteral("events"), QJsonArray()}}));
        m_a->enqueue(Step::rateLimited(30));
        QCOMPARE(chat(), 200);

        const auto r = HttpClient::get(url(QStringLiteral("/v1/events")));
        QCOMPARE(r.status, 200);
        const QJsonArray events = r.json().value(QLatin1String("events")).toArray();
        QVERIFY(!events.isEmpty());
        const QJsonObject cooldown = events.first().toObject();
        QStringList keys = cooldown.keys();
        keys.sort();
        QStringList expected = kEventKeys;
        expected.sort();
        QCOMPARE(keys, expected);
        QCOMPARE(cooldown.value(QLatin1String("kind")).toString(), QStringLiteral("cooldown"));
        QCOMPARE(cooldown.value(QLatin1String("provider")).toString(), QStringLiteral("a"));
        QCOMPARE(cooldown.value(QLatin1String("model")).toString(), QStringLiteral("ma"));
        QCOMPARE(cooldown.value(QLatin1String("until")).toInteger(), m_h->clock().nowMs() + 30 * 1000);
        QCOMPARE(cooldown.value(QLatin1String("timestamp")).toInteger(), m_h->clock().nowMs());

        // Paging by id, and the limit.
        const qint64 id = cooldown.value(QLatin1String("id")).toInteger();
        QVERIFY(HttpClient::get(url(QStringLiteral("/v1/events?after=%1").arg(id)))
                    .json()
                    .value(QLatin1String("events"))
                    .toArray()
                    .size() == events.size() - 1);
        m_h->clock().advance(31 * 1000);
        m_h->service().tracker().sweep(); // "recovered"
        QTRY_VERIFY(HttpClient::get(url(QStringLiteral("/v1/events")))
                        .json()
                        .value(QLatin1String("events"))
                        .toArray()
                        .size() >= 2);
        const QJsonArray one = HttpClient::get(url(QStringLiteral("/v1/events?limit=1")))
                                   .json()
                                   .value(QLatin1String("events"))
                                   .toArray();
        QCOMPARE(one.size(), 1);
        QVERIFY(one.first().toObject().value(QLatin1String("id")).toInteger() > id); // the newest

        const auto bad = HttpClient::get(url(QStringLiteral("/v1/events?after=x")));
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QLatin1String("error")).toObject().value(QLatin1String("param")).toString(),
                 QStringLiteral("after"));
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/events?limit=0"))).status, 400);
        QCOMPARE(HttpClient::get(url(QStringLiteral("/v1/events")),
                                 {{QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer x")}})
                     .status,
                 401);
    }

    void feedReplaysThenFollowsAndEndsWithTheServer()
    {
        m_a->enqueue(Step::rateLimited(30));
        QCOMPARE(chat(), 200);

        Follower follower(url(QStringLiteral("/v1/events")));
        QTRY_COMPARE(follower.dataEvents("cooldown").size(), 1);
        QCOMPARE(follower.reply()->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QVERIFY(follower.reply()->rawHeader("Content-Type").startsWith("text/event-stream"));
        QCOMPARE(follower.reply()->rawHeader("Cache-Control"), QByteArray("no-cache"));
        const SseEvent replayed = follower.dataEvents("cooldown").first();
        QCOMPARE(dataOf(replayed).value(QLatin1String("provider")).toString(), QStringLiteral("a"));
        QCOMPARE(replayed.id, QByteArray::number(dataOf(replayed).value(QLatin1String("id")).toInteger()));

        // A new 429 (b, while a cools down) arrives live, followed by the chain running dry.
        m_b->enqueue(Step::rateLimited(60));
        QCOMPARE(chat(), 429);
        QTRY_COMPARE(follower.dataEvents("cooldown").size(), 2);
        QCOMPARE(dataOf(follower.dataEvents("cooldown").last()).value(QLatin1String("provider")).toString(),
                 QStringLiteral("b"));
        QTRY_COMPARE(follower.dataEvents("chain_exhausted").size(), 1);
        QVERIFY(!follower.finished);

        // A reconnect with Last-Event-ID gets only what came after it.
        Follower resumed(url(QStringLiteral("/v1/events")), replayed.id);
        QTRY_VERIFY(!resumed.dataEvents("chain_exhausted").isEmpty());
        QCOMPARE(resumed.dataEvents("cooldown").size(), 1);

        // The server stops: both feeds end cleanly (a complete chunked body, no error).
        m_h->server().stopListening();
        QTRY_VERIFY(follower.finished && resumed.finished);
        QCOMPARE(follower.reply()->error(), QNetworkReply::NoError);
        QCOMPARE(resumed.reply()->error(), QNetworkReply::NoError);
        QTRY_COMPARE(feedWriters(), 0);
    }

    void feedGoesAwayWithItsClient()
    {
        auto follower = std::make_unique<Follower>(url(QStringLiteral("/v1/events")));
        QTRY_VERIFY(!follower->events.isEmpty()); // the opening comment
        QCOMPARE(follower->events.first().kind, SseEvent::Kind::Comment);
        QCOMPARE(feedWriters(), 1);
        follower->reply()->abort();
        follower.reset();
        QTRY_COMPARE(feedWriters(), 0);
        // Events after the client left go nowhere and harm nothing.
        m_a->enqueue(Step::rateLimited(30));
        QCOMPARE(chat(), 200);
    }
};

QTEST_MAIN(TestEventRoutes)
#include "tst_eventroutes.moc"
