// Integration: the admin API and the chain test over loopback HTTP, with the config in a temp file: the
// reference's shapes and error strings, validation that names the key, keys masked on every read, a PUT
// without apiKey keeping the key, atomic writes with .bak and 0600, live effect of new chains, adminKeys
// separation, reload, model listing and the chain test.

#include "configjson.h"
#include "configloader.h"
#include "configwriter.h"
#include "httpclient.h"
#include "providerkind.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using Step = SimulatedProvider::Step;

namespace {

const QStringList kConfigKeys{QStringLiteral("providers"), QStringLiteral("chains")};
const QStringList kConfigOurs{QStringLiteral("settings")};
const QStringList kProviderKeys{QStringLiteral("id"),        QStringLiteral("name"),
                                QStringLiteral("type"),      QStringLiteral("apiKey"),
                                QStringLiteral("baseUrl"),   QStringLiteral("timeout"),
                                QStringLiteral("rateLimits")};
const QStringList kProviderOurs{QStringLiteral("enabled"), QStringLiteral("headers")};
const QStringList kSettingsKeys{QStringLiteral("port"),
                                QStringLiteral("apiKeys"),
                                QStringLiteral("defaultChain"),
                                QStringLiteral("logLevel"),
                                QStringLiteral("cooldownDefaultMs"),
                                QStringLiteral("requestTimeoutMs"),
                                QStringLiteral("streamIdleTimeoutMs"),
                                QStringLiteral("dbPath"),
                                QStringLiteral("normalizeResponses"),
                                QStringLiteral("midStreamFailureThreshold"),
                                QStringLiteral("midStreamCooldownMs"),
                                QStringLiteral("midStreamCooldownMaxMs"),
                                QStringLiteral("queueMode"),
                                QStringLiteral("queueMaxWaitMs"),
                                QStringLiteral("queueMaxSize")};
const QStringList kSettingsOurs{
    QStringLiteral("host"),         QStringLiteral("adminKeys"),         QStringLiteral("corsOrigins"),
    QStringLiteral("allowedHosts"), QStringLiteral("maxRequestBytes"),   QStringLiteral("logRetentionDays"),
    QStringLiteral("modelAliases"), QStringLiteral("midStreamContinue"), QStringLiteral("storage"),
    QStringLiteral("replicaName")};
const QStringList kTestOkKeys{QStringLiteral("provider"), QStringLiteral("model"),
                              QStringLiteral("status"),   QStringLiteral("latencyMs"),
                              QStringLiteral("response"), QStringLiteral("tokens"),
                              QStringLiteral("raw")};
const QStringList kTestErrorKeys{QStringLiteral("provider"), QStringLiteral("model"),
                                 QStringLiteral("status"), QStringLiteral("latencyMs"),
                                 QStringLiteral("error")};

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

bool hasExactly(const QJsonObject &object, const QStringList &keys)
{
    if (sorted(object.keys()) == sorted(keys))
        return true;
    qWarning() << "keys" << sorted(object.keys()) << "expected" << sorted(keys);
    return false;
}

// Every key is one of the reference's or ours, and the reference's `required` ones are there.
bool keysWithin(const QJsonObject &object, const QStringList &allowed, const QStringList &required)
{
    for (const QString &key : object.keys()) {
        if (!allowed.contains(key)) {
            qWarning() << "unexpected key" << key;
            return false;
        }
    }
    for (const QString &key : required) {
        if (!object.contains(key)) {
            qWarning() << "missing key" << key;
            return false;
        }
    }
    return true;
}

QJsonObject errorBody(const QString &message)
{
    return QJsonObject{{QStringLiteral("error"), message}};
}

HttpClient::Headers bearer(const QByteArray &key)
{
    return {{QByteArrayLiteral("Authorization"), "Bearer " + key}};
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// PUT and DELETE through a raw socket (HttpClient speaks GET and POST).
HttpClient::Response send(quint16 port, const QByteArray &method, const QString &path,
                          const QByteArray &body = {}, const QByteArray &key = QByteArrayLiteral("test-key"))
{
    const QByteArray request =
        method + ' ' + path.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    const QByteArray raw = HttpClient::raw(port, request);
    HttpClient::Response r;
    const qsizetype headerEnd = raw.indexOf("\r\n\r\n");
    r.status = raw.mid(9, 3).toInt();
    r.body = headerEnd >= 0 ? raw.mid(headerEnd + 4) : QByteArray();
    return r;
}

} // namespace

class TestAdminRoutes : public QObject
{
    Q_OBJECT

private:
    // Two simulated providers (Groq and OpenRouter dialects), chains "default" (a) and "spare" (b), the
    // config saved in a temp dir that the service writes back to.
    struct Env
    {
        SimulatedProvider a{SimulatedProvider::Dialect::Groq};
        SimulatedProvider b{SimulatedProvider::Dialect::OpenRouter};
        ProxyHarness h;
        QTemporaryDir dir;
        QString path;

        bool start()
        {
            if (!a.listen() || !b.listen() || !dir.isValid())
                return false;
            h.addProvider(QStringLiteral("a"), &a);
            h.addProvider(QStringLiteral("b"), &b, QStringLiteral("openrouter"));
            h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma")});
            h.addChain(QStringLiteral("spare"), {QStringLiteral("b/mb:free")});
            h.config().settings.apiKeys = {QString::fromLatin1(ProxyHarness::kApiKey)};
            path = dir.filePath(QStringLiteral("config.yaml"));
            QString error;
            if (!ConfigWriter::write(h.config(), path, &error)) {
                qWarning() << error;
                return false;
            }
            h.config().sourcePath = path;
            return h.start();
        }
        QString url(const QString &p) const { return h.url(p); }
        HttpClient::Response put(const QString &p, const QByteArray &body, const QByteArray &key = "test-key")
        {
            return send(h.port(), "PUT", p, body, key);
        }
        HttpClient::Response del(const QString &p) { return send(h.port(), "DELETE", p); }
        QByteArray file() const
        {
            QFile f(path);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }
        HttpClient::Response chat(const QString &model, const QByteArray &key = "test-key")
        {
            return HttpClient::post(url(QStringLiteral("/v1/chat/completions")),
                                    HttpClient::chatBody(model, false), bearer(key));
        }
    };
    std::unique_ptr<Env> m_env;

private slots:
    void init()
    {
        m_env = std::make_unique<Env>();
        QVERIFY(m_env->start());
    }

    void cleanup() { m_env.reset(); }

    void configIsMaskedWithTheReferenceShape()
    {
        const auto r = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/config")));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), kConfigKeys + kConfigOurs));
        const QJsonArray providers = r.json().value(QLatin1String("providers")).toArray();
        QCOMPARE(providers.size(), 2);
        for (const QJsonValue &p : providers) {
            QVERIFY(keysWithin(p.toObject(), kProviderKeys + kProviderOurs,
                               {QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("type"),
                                QStringLiteral("apiKey")}));
            QCOMPARE(p.toObject().value(QLatin1String("apiKey")).toString(), QStringLiteral("***"));
        }
        const QJsonObject chain = r.json().value(QLatin1String("chains")).toArray().first().toObject();
        QVERIFY(hasExactly(chain, {QStringLiteral("name"), QStringLiteral("entries")}));
        QVERIFY(hasExactly(chain.value(QLatin1String("entries")).toArray().first().toObject(),
                           {QStringLiteral("provider"), QStringLiteral("model")}));
        const QJsonObject settings = r.json().value(QLatin1String("settings")).toObject();
        QVERIFY(hasExactly(settings, kSettingsKeys + kSettingsOurs));
        QCOMPARE(settings.value(QLatin1String("apiKeys")).toArray(), QJsonArray{QStringLiteral("***")});
        QVERIFY(!r.body.contains("sk-upstream"));
        QVERIFY(!r.body.contains("test-key"));
    }

    void putProviderValidates_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("not json") << QByteArray("{nope") << QStringLiteral("Invalid JSON");
        QTest::newRow("id mismatch") << QByteArray(R"({"id":"zz","name":"Z","type":"groq","apiKey":"k"})")
                                     << QStringLiteral("Provider ID in path must match ID in body");
        QTest::newRow("unknown key") << QByteArray(R"({"type":"groq","apiKey":"k","timeoutMs":5})")
                                     << QStringLiteral("timeoutMs");
        QTest::newRow("timeout type")
            << QByteArray(R"({"type":"groq","apiKey":"k","timeout":"5s"})") << QStringLiteral("timeout");
        QTest::newRow("limit type") << QByteArray(R"({"type":"groq","rateLimits":{"requestsPerMinute":1.5}})")
                                    << QStringLiteral("rateLimits.requestsPerMinute");
        QTest::newRow("no type") << QByteArray(R"({"name":"C"})") << QStringLiteral("type");
        QTest::newRow("bad type") << QByteArray(R"({"type":"nope","apiKey":"k"})") << QStringLiteral("type");
        QTest::newRow("generic without url")
            << QByteArray(R"({"type":"generic-openai","apiKey":"k"})") << QStringLiteral("baseUrl");
    }

    void putProviderValidates()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, mentions);
        const QByteArray before = m_env->file();
        const auto r = m_env->put(QStringLiteral("/v1/admin/providers/c"), body);
        QCOMPARE(r.status, 400);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("error")}));
        QVERIFY2(r.json().value(QLatin1String("error")).toString().contains(mentions), r.body.constData());
        QCOMPARE(m_env->file(), before);
        QVERIFY(!m_env->h.service().config()->provider(QStringLiteral("c")));
    }

    void putProviderWithoutKeyKeepsItAndWritesAtomically()
    {
        const QJsonObject body{{QStringLiteral("id"), QStringLiteral("a")},
                               {QStringLiteral("name"), QStringLiteral("Renamed A")},
                               {QStringLiteral("type"), QStringLiteral("groq")},
                               {QStringLiteral("baseUrl"), m_env->a.baseUrl()},
                               {QStringLiteral("timeout"), 5000}};
        const auto r = m_env->put(QStringLiteral("/v1/admin/providers/a"), json(body));
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("provider"), QStringLiteral("message")}));
        const QJsonObject provider = r.json().value(QLatin1String("provider")).toObject();
        QVERIFY(keysWithin(provider, kProviderKeys + kProviderOurs,
                           {QStringLiteral("id"), QStringLiteral("apiKey")}));
        QCOMPARE(provider.value(QLatin1String("apiKey")).toString(), QStringLiteral("***"));
        QCOMPARE(provider.value(QLatin1String("name")).toString(), QStringLiteral("Renamed A"));
        QCOMPARE(provider.value(QLatin1String("timeout")).toInt(), 5000);
        QVERIFY(!r.body.contains("sk-upstream"));

        // The key stayed: in the running config, on the wire upstream and in the file.
        QCOMPARE(m_env->h.service().config()->provider(QStringLiteral("a"))->apiKey,
                 QStringLiteral("sk-upstream-a"));
        QCOMPARE(m_env->chat(QStringLiteral("default")).status, 200);
        QCOMPARE(m_env->a.lastRequest().header("Authorization"), QByteArray("Bearer sk-upstream-a"));
        const QByteArray file = m_env->file();
        QVERIFY(file.contains("Renamed A"));
        QVERIFY(file.contains("sk-upstream-a"));
        const auto reloaded = ConfigLoader::loadFile(m_env->path);
        QVERIFY2(reloaded.ok(), qPrintable(reloaded.errors.join(QLatin1Char('\n'))));
        QCOMPARE(reloaded.config->provider(QStringLiteral("a"))->timeoutMs, std::optional<qint64>(5000));

        // Atomic write: owner-only file, the previous one kept as .bak, no temp file left behind.
        QCOMPARE(QFileInfo(m_env->path).permissions() & 0x0077, QFileDevice::Permissions());
        QVERIFY(QFileInfo::exists(m_env->path + QLatin1String(".bak")));
        QCOMPARE(QDir(m_env->dir.path()).entryList(QDir::Files).size(), 2);

        // A masked key sent back (a form filled from GET) keeps the key too; a real one replaces it.
        QJsonObject masked = body;
        masked.insert(QStringLiteral("apiKey"), QStringLiteral("***"));
        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/providers/a"), json(masked)).status, 200);
        QCOMPARE(m_env->h.service().config()->provider(QStringLiteral("a"))->apiKey,
                 QStringLiteral("sk-upstream-a"));
        masked.insert(QStringLiteral("apiKey"), QStringLiteral("sk-new"));
        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/providers/a"), json(masked)).status, 200);
        QCOMPARE(m_env->h.service().config()->provider(QStringLiteral("a"))->apiKey,
                 QStringLiteral("sk-new"));
    }

    void addAndDeleteProvider()
    {
        const QByteArray body = R"({"id":"c","name":"C","type":"generic-openai","apiKey":"sk-c",)"
                                R"("baseUrl":"http://127.0.0.1:9/v1","rateLimits":{"requestsPerMinute":10},)"
                                R"("headers":{"X-Secret":"hush"}})";
        const auto added = m_env->put(QStringLiteral("/v1/admin/providers/c"), body);
        QCOMPARE(added.status, 200);
        const QJsonObject provider = added.json().value(QLatin1String("provider")).toObject();
        QCOMPARE(provider.value(QLatin1String("rateLimits")).toObject(),
                 (QJsonObject{{QStringLiteral("requestsPerMinute"), 10}}));
        QCOMPARE(provider.value(QLatin1String("headers")).toObject(),
                 (QJsonObject{{QStringLiteral("X-Secret"), QStringLiteral("***")}}));
        QVERIFY(!added.body.contains("hush") && !added.body.contains("sk-c"));
        QVERIFY(m_env->file().contains("sk-c"));

        QCOMPARE(m_env->del(QStringLiteral("/v1/admin/providers/nobody")).json(),
                 errorBody(QStringLiteral("Provider not found")));
        const auto used = m_env->del(QStringLiteral("/v1/admin/providers/a"));
        QCOMPARE(used.status, 409);
        QCOMPARE(used.json(), errorBody(QStringLiteral("Provider is referenced by chains: default")));
        const auto deleted = m_env->del(QStringLiteral("/v1/admin/providers/c"));
        QCOMPARE(deleted.status, 200);
        QCOMPARE(deleted.json(),
                 (QJsonObject{{QStringLiteral("deleted"), QStringLiteral("c")},
                              {QStringLiteral("message"), QStringLiteral("Provider \"c\" deleted")}}));
        QVERIFY(!m_env->file().contains("sk-c"));
    }

    void newChainServesRightAfterItsPut()
    {
        QCOMPARE(m_env->chat(QStringLiteral("fresh")).header("X-429chain-Provider"),
                 QByteArray("a/ma")); // default
        const auto r =
            m_env->put(QStringLiteral("/v1/admin/chains/fresh"),
                       R"({"entries":[{"provider":"b","model":"mb:free"},{"provider":"a","model":"ma"}]})");
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(), {QStringLiteral("chain"), QStringLiteral("message")}));
        const QJsonObject chain = r.json().value(QLatin1String("chain")).toObject();
        QVERIFY(hasExactly(chain, {QStringLiteral("name"), QStringLiteral("entries")}));
        QCOMPARE(chain.value(QLatin1String("entries")).toArray().size(), 2);
        const auto served = m_env->chat(QStringLiteral("fresh"));
        QCOMPARE(served.status, 200);
        QCOMPARE(served.header("X-429chain-Provider"), QByteArray("b/mb:free"));
        QVERIFY(m_env->file().contains("fresh"));

        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/chains/bad"), R"({"entries":[]})").status, 400);
        QCOMPARE(
            m_env->put(QStringLiteral("/v1/admin/chains/bad"), R"({"entries":[{"provider":"a"}]})").json(),
            errorBody(QStringLiteral("entries[0].model is required (a non-empty string)")));
        QCOMPARE(m_env
                     ->put(QStringLiteral("/v1/admin/chains/bad"),
                           R"({"entries":[{"provider":"zz","model":"m"}]})")
                     .json(),
                 errorBody(QStringLiteral("Chain references non-existent providers: zz")));
    }

    void deleteAndRenameChains()
    {
        QCOMPARE(m_env->del(QStringLiteral("/v1/admin/chains/none")).json(),
                 errorBody(QStringLiteral("Chain not found")));
        const auto isDefault = m_env->del(QStringLiteral("/v1/admin/chains/default"));
        QCOMPARE(isDefault.status, 409);
        QCOMPARE(isDefault.json(), errorBody(QStringLiteral("Cannot delete default chain")));

        const auto renamed = HttpClient::post(m_env->url(QStringLiteral("/v1/admin/chains/spare/rename")),
                                              R"({"name":"backup"})");
        QCOMPARE(renamed.status, 200);
        QCOMPARE(
            renamed.json().value(QLatin1String("chain")).toObject().value(QLatin1String("name")).toString(),
            QStringLiteral("backup"));
        QCOMPARE(m_env->chat(QStringLiteral("backup")).header("X-429chain-Provider"),
                 QByteArray("b/mb:free"));
        QCOMPARE(HttpClient::post(m_env->url(QStringLiteral("/v1/admin/chains/backup/rename")),
                                  R"({"name":"default"})")
                     .status,
                 409);
        QCOMPARE(
            HttpClient::post(m_env->url(QStringLiteral("/v1/admin/chains/backup/rename")), R"({"to":"x"})")
                .status,
            400);

        const auto deleted = m_env->del(QStringLiteral("/v1/admin/chains/backup"));
        QCOMPARE(deleted.status, 200);
        QCOMPARE(deleted.json().value(QLatin1String("deleted")).toString(), QStringLiteral("backup"));
        QVERIFY(!m_env->h.service().config()->chain(QStringLiteral("backup")));
    }

    void settingsRoundTripAndKeepKeys()
    {
        const auto got = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/settings")));
        QCOMPARE(got.status, 200);
        QVERIFY(hasExactly(got.json().value(QLatin1String("settings")).toObject(),
                           kSettingsKeys + kSettingsOurs));
        QVERIFY(!got.body.contains("test-key"));

        // What GET answered goes back unchanged (masked keys included).
        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/settings"), got.body).status, 200);
        QCOMPARE(m_env->h.service().config()->settings.apiKeys, QStringList{QStringLiteral("test-key")});

        const auto partial =
            m_env->put(QStringLiteral("/v1/admin/settings"), R"({"cooldownDefaultMs":5000})");
        QCOMPARE(partial.status, 200);
        QCOMPARE(partial.json()
                     .value(QLatin1String("settings"))
                     .toObject()
                     .value(QLatin1String("cooldownDefaultMs"))
                     .toInt(),
                 5000);
        QCOMPARE(m_env->h.service().config()->settings.cooldownDefaultMs, 5000);
        QCOMPARE(m_env->h.service().config()->settings.apiKeys, QStringList{QStringLiteral("test-key")});
        QVERIFY(m_env->file().contains("cooldownDefaultMs: 5000"));

        const auto unknown =
            m_env->put(QStringLiteral("/v1/admin/settings"), R"({"cooldownMs":1,"colour":"red"})");
        QCOMPARE(unknown.status, 400);
        QVERIFY(unknown.json()
                    .value(QLatin1String("error"))
                    .toString()
                    .contains(QLatin1String("cooldownMs, colour")) ||
                unknown.json()
                    .value(QLatin1String("error"))
                    .toString()
                    .contains(QLatin1String("colour, cooldownMs")));
        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/settings"), R"({"queueMode":"yes"})").status, 400);
        const auto range = m_env->put(QStringLiteral("/v1/admin/settings"), R"({"cooldownDefaultMs":10})");
        QCOMPARE(range.status, 400);
        QVERIFY(range.json()
                    .value(QLatin1String("error"))
                    .toString()
                    .contains(QLatin1String("settings.cooldownDefaultMs")));

        // A masked entry keeps the key at its index; a new one is added.
        QCOMPARE(
            m_env->put(QStringLiteral("/v1/admin/settings"), R"({"apiKeys":["***","second-key"]})").status,
            200);
        QCOMPARE(m_env->chat(QStringLiteral("default"), "second-key").status, 200);
        QCOMPARE(m_env->chat(QStringLiteral("default"), "test-key").status, 200);
        QCOMPARE(
            m_env->put(QStringLiteral("/v1/admin/settings"), R"({"apiKeys":["***","***","***"]})").status,
            400);
    }

    void storageUrlPasswordIsMasked()
    {
        // The database URL's password is a secret: masked on the way out, kept when the mask comes back.
        const QString url =
            QStringLiteral("postgresql://chain:db-secret-9@db.internal:5432/team?sslmode=require");
        QCOMPARE(
            m_env
                ->put(QStringLiteral("/v1/admin/settings"),
                      QJsonDocument(QJsonObject{{QStringLiteral("storage"), url},
                                                {QStringLiteral("replicaName"), QStringLiteral("box-1")}})
                          .toJson())
                .status,
            200);
        QCOMPARE(m_env->h.service().fileConfig()->settings.storage, url);
        // A restart setting: the file has it now, the running config (what GET shows) at the next start.
        const QJsonObject settings = ConfigJson::settingsToJson(m_env->h.service().fileConfig()->settings);
        const QByteArray masked = QJsonDocument(settings).toJson();
        QVERIFY(!masked.contains("db-secret-9"));
        QCOMPARE(settings.value(QLatin1String("storage")).toString(),
                 QStringLiteral("postgresql://chain:***@db.internal:5432/team?sslmode=require"));
        QCOMPARE(settings.value(QLatin1String("replicaName")).toString(), QStringLiteral("box-1"));
        // A form sends the mask back: the stored URL, password included, stays.
        QString error;
        const auto back =
            ConfigJson::settingsFromJson(settings, m_env->h.service().fileConfig()->settings, &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(back->storage, url);
        QVERIFY(m_env->file().contains("db-secret-9")); // the file is where the user put it
        const auto bad =
            m_env->put(QStringLiteral("/v1/admin/settings"), QByteArray("{\"storage\":\"mysql://x\"}"));
        QCOMPARE(bad.status, 400);
        QVERIFY2(
            bad.json().value(QLatin1String("error")).toString().contains(QLatin1String("settings.storage")),
            bad.body.constData());
        QCOMPARE(m_env
                     ->put(QStringLiteral("/v1/admin/settings"),
                           QByteArray("{\"storage\":\"\",\"replicaName\":\"\"}"))
                     .status,
                 200);
    }

    // The tables the web UI builds its forms from: every setting GET /v1/admin/settings has, with the
    // restart-only ones flagged, and every provider type with its default base URL.
    void schemaDescribesSettingsAndProviderTypes()
    {
        const auto got = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/schema")));
        QCOMPARE(got.status, 200);
        QStringList names;
        QStringList restartOnly;
        for (const QJsonValue &value : got.json().value(QLatin1String("settings")).toArray()) {
            const QJsonObject row = value.toObject();
            const QString name = row.value(QLatin1String("name")).toString();
            names << name;
            if (row.value(QLatin1String("restartOnly")).toBool())
                restartOnly << name;
            QVERIFY2(!row.value(QLatin1String("description")).toString().isEmpty(), qPrintable(name));
            QVERIFY2(!row.value(QLatin1String("label")).toString().isEmpty(), qPrintable(name));
            QVERIFY2(row.contains(QLatin1String("default")), qPrintable(name));
            if (row.value(QLatin1String("type")).toString() == QLatin1String("integer"))
                QVERIFY2(row.contains(QLatin1String("minimum")), qPrintable(name));
        }
        QCOMPARE(sorted(names), sorted(kSettingsKeys + kSettingsOurs));
        // What the listener, the request log and the logging set-up read once at start.
        QCOMPARE(sorted(restartOnly),
                 sorted({QStringLiteral("port"), QStringLiteral("host"), QStringLiteral("logLevel"),
                         QStringLiteral("dbPath"), QStringLiteral("maxRequestBytes"),
                         QStringLiteral("logRetentionDays"), QStringLiteral("storage"),
                         QStringLiteral("replicaName")}));
        const QJsonObject port = got.json().value(QLatin1String("settings")).toArray().at(0).toObject();
        QCOMPARE(port.value(QLatin1String("name")).toString(), QStringLiteral("port"));
        QCOMPARE(port.value(QLatin1String("default")).toInt(), 3429);
        QCOMPARE(port.value(QLatin1String("maximum")).toInt(), 65535);

        QStringList types;
        for (const QJsonValue &value : got.json().value(QLatin1String("providerTypes")).toArray()) {
            const QJsonObject row = value.toObject();
            const QString type = row.value(QLatin1String("type")).toString();
            types << type;
            QCOMPARE(row.value(QLatin1String("baseUrl")).toString(), ProviderKind::defaultBaseUrl(type));
            QCOMPARE(row.value(QLatin1String("requiresBaseUrl")).toBool(),
                     ProviderKind::requiresBaseUrl(type));
            QVERIFY(!row.value(QLatin1String("label")).toString().isEmpty());
        }
        QCOMPARE(types, ProviderKind::knownTypes());
    }

    void adminKeysSeparateTheAdminApi()
    {
        QCOMPARE(m_env->put(QStringLiteral("/v1/admin/settings"), R"({"adminKeys":["admin-key"]})").status,
                 200);
        const auto proxyKey = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/config")));
        QCOMPARE(proxyKey.status, 403);
        QCOMPARE(
            proxyKey.json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString(),
            QStringLiteral("admin_key_required"));
        QCOMPARE(
            m_env->put(QStringLiteral("/v1/admin/chains/x"), R"({"entries":[{"provider":"a","model":"m"}]})")
                .status,
            403);
        QCOMPARE(HttpClient::get(m_env->url(QStringLiteral("/v1/admin/config")), bearer("admin-key")).status,
                 200);
        QCOMPARE(HttpClient::get(m_env->url(QStringLiteral("/v1/admin/config")), bearer("nobody")).status,
                 401);
        // The proxy key still serves the proxy, and the chain test is a proxy route.
        QCOMPARE(m_env->chat(QStringLiteral("default")).status, 200);
        QCOMPARE(HttpClient::post(m_env->url(QStringLiteral("/v1/test/chain/default")), QByteArray()).status,
                 200);
        const auto masked =
            HttpClient::get(m_env->url(QStringLiteral("/v1/admin/settings")), bearer("admin-key"));
        QCOMPARE(masked.json()
                     .value(QLatin1String("settings"))
                     .toObject()
                     .value(QLatin1String("adminKeys"))
                     .toArray(),
                 QJsonArray{QStringLiteral("***")});
    }

    void reloadAppliesAGoodFileAndKeepsTheRunningConfigOnABadOne()
    {
        Config edited = *ConfigLoader::loadFile(m_env->path).config;
        edited.chains.append(
            ChainConfig{QStringLiteral("from-disk"),
                        {ChainEntry{QStringLiteral("a"), QStringLiteral("ma"), 0, std::nullopt}},
                        0,
                        std::nullopt});
        QString error;
        QVERIFY2(ConfigWriter::write(edited, m_env->path, &error), qPrintable(error));
        const auto good = HttpClient::post(m_env->url(QStringLiteral("/v1/admin/reload")), QByteArray());
        QCOMPARE(good.status, 200);
        QVERIFY(hasExactly(good.json(), {QStringLiteral("reloaded"), QStringLiteral("message")}));
        QCOMPARE(good.json().value(QLatin1String("reloaded")).toBool(), true);
        QVERIFY(m_env->h.service().config()->chain(QStringLiteral("from-disk")));

        QFile file(m_env->path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("version: 1\nsettings: [broken\n");
        file.close();
        const auto bad = HttpClient::post(m_env->url(QStringLiteral("/v1/admin/reload")), QByteArray());
        QCOMPARE(bad.status, 400);
        QVERIFY(!bad.json().value(QLatin1String("error")).toString().isEmpty());
        QVERIFY(m_env->h.service().config()->chain(QStringLiteral("from-disk")));
        QCOMPARE(m_env->chat(QStringLiteral("from-disk")).status, 200);
    }

    void listsAProvidersModels()
    {
        m_env->a.setModels({QStringLiteral("llama-a"), QStringLiteral("llama-b")});
        m_env->a.setRequiredApiKey(QStringLiteral("sk-upstream-a")); // the provider's own key is sent
        const auto groq = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/providers/a/models")));
        QCOMPARE(groq.status, 200);
        const QJsonArray models = groq.json().value(QLatin1String("models")).toArray();
        QCOMPARE(models.size(), 2);
        const QJsonObject first = models.first().toObject();
        QVERIFY(hasExactly(first,
                           {QStringLiteral("id"), QStringLiteral("contextLength"), QStringLiteral("free")}));
        QCOMPARE(first.value(QLatin1String("id")).toString(), QStringLiteral("llama-a"));
        QCOMPARE(first.value(QLatin1String("contextLength")).toInt(), 131072); // Groq's context_window
        QVERIFY(first.value(QLatin1String("free")).isNull());

        m_env->b.setModels({QStringLiteral("vendor/model:free")});
        const auto router = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/providers/b/models")));
        QCOMPARE(router.status, 200);
        const QJsonObject free = router.json().value(QLatin1String("models")).toArray().first().toObject();
        QCOMPARE(free.value(QLatin1String("free")).toBool(), true);
        QCOMPARE(free.value(QLatin1String("contextLength")).toInt(), 131072);

        QCOMPARE(HttpClient::get(m_env->url(QStringLiteral("/v1/admin/providers/zz/models"))).json(),
                 errorBody(QStringLiteral("Provider not found")));
        m_env->a.setRequiredApiKey(QStringLiteral("another-key"));
        const auto failed = HttpClient::get(m_env->url(QStringLiteral("/v1/admin/providers/a/models")));
        QCOMPARE(failed.status, 502);
        QCOMPARE(failed.json().value(QLatin1String("upstreamStatus")).toInt(), 401);
        QVERIFY(failed.json().value(QLatin1String("error")).toString().contains(QLatin1String("401")));
    }

    void testChainTriesEveryEntryBypassingCooldowns()
    {
        QCOMPARE(
            m_env
                ->put(QStringLiteral("/v1/admin/chains/both"),
                      R"({"entries":[{"provider":"a","model":"ma"},{"provider":"b","model":"mb:free"}]})")
                .status,
            200);
        // a goes into cooldown; the test asks it anyway, and its 429 is reported, not waterfalled.
        m_env->a.enqueue(Step::rateLimited(600));
        QCOMPARE(m_env->chat(QStringLiteral("both")).header("X-429chain-Provider"), QByteArray("b/mb:free"));
        QVERIFY(m_env->h.service().tracker().cooldown(QStringLiteral("a"), QStringLiteral("ma")));
        m_env->a.enqueue(Step::rateLimited(600));
        m_env->b.setReply(QString(300, QLatin1Char('x')));
        const int before = m_env->a.requestCount();

        const auto r =
            HttpClient::post(m_env->url(QStringLiteral("/v1/test/chain/both")), R"({"prompt":"Ping?"})");
        QCOMPARE(r.status, 200);
        QVERIFY(hasExactly(r.json(),
                           {QStringLiteral("chain"), QStringLiteral("results"), QStringLiteral("summary")}));
        QCOMPARE(r.json().value(QLatin1String("chain")).toString(), QStringLiteral("both"));
        QCOMPARE(r.json().value(QLatin1String("summary")).toObject(),
                 (QJsonObject{{QStringLiteral("total"), 2},
                              {QStringLiteral("ok"), 1},
                              {QStringLiteral("failed"), 1}}));
        const QJsonArray results = r.json().value(QLatin1String("results")).toArray();
        const QJsonObject failed = results.at(0).toObject();
        QVERIFY(hasExactly(failed, kTestErrorKeys));
        QCOMPARE(failed.value(QLatin1String("status")).toString(), QStringLiteral("error"));
        QVERIFY(failed.value(QLatin1String("error")).toString().contains(QLatin1String("429")));
        const QJsonObject ok = results.at(1).toObject();
        QVERIFY(hasExactly(ok, kTestOkKeys));
        QCOMPARE(ok.value(QLatin1String("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(ok.value(QLatin1String("response")).toString(),
                 QString(200, QLatin1Char('x')) + QLatin1String("..."));
        QVERIFY(
            hasExactly(ok.value(QLatin1String("tokens")).toObject(),
                       {QStringLiteral("prompt"), QStringLiteral("completion"), QStringLiteral("total")}));
        QVERIFY(ok.value(QLatin1String("raw")).toObject().contains(QLatin1String("choices")));

        QCOMPARE(m_env->a.requestCount(), before + 1);
        const QJsonObject sent = m_env->b.lastRequest().body;
        QCOMPARE(sent.value(QLatin1String("max_tokens")).toInt(), 50);
        QCOMPARE(sent.value(QLatin1String("model")).toString(), QStringLiteral("mb:free"));
        QCOMPARE(sent.value(QLatin1String("messages"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QLatin1String("content"))
                     .toString(),
                 QStringLiteral("Ping?"));

        const auto missing =
            HttpClient::post(m_env->url(QStringLiteral("/v1/test/chain/nope")), QByteArray());
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json(), errorBody(QStringLiteral("Chain \"nope\" not found")));
    }
};

QTEST_MAIN(TestAdminRoutes)
#include "tst_adminroutes.moc"
