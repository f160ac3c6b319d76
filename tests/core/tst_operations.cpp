// What the operations ask of an upstream: the body each entry gets (max_tokens clamped to what the entry can
// give, tool schemas cleaned of what the provider refuses) and what admission reserves for it.

#include "chatoperation.h"
#include "configloader.h"
#include "configwriter.h"
#include "embeddingsoperation.h"
#include "providerkind.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

namespace {

QJsonObject sentBody(const Operation &operation, const EngineRequest &request, const QString &type,
                     std::optional<int> entryCap = std::nullopt)
{
    ProviderConfig provider;
    provider.id = QStringLiteral("p");
    provider.type = type;
    provider.baseUrl = QStringLiteral("http://127.0.0.1:9/v1");
    // A Gemini model: google-ai sends tools only to those.
    ChainEntry entry{QStringLiteral("p"), QStringLiteral("gemini-2.5-flash"), 0, entryCap};
    const UpstreamCall::Request upstream = operation.upstreamRequest(request, provider, entry, Settings{});
    return QJsonDocument::fromJson(upstream.body).object();
}

qint64 reserved(const EngineRequest &request, const QString &type, std::optional<int> entryCap = std::nullopt)
{
    ProviderConfig provider;
    provider.type = type;
    return ChatOperation().reservedTokens(request, provider,
                                          ChainEntry{QStringLiteral("p"), QStringLiteral("m"), 0, entryCap});
}

EngineRequest chatAsking(const char *key, qint64 maxTokens)
{
    return EngineRequest::chat(
        QJsonObject{{QStringLiteral("model"), QStringLiteral("x")},
                    {QLatin1String(key), maxTokens},
                    {QStringLiteral("messages"),
                     QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                            {QStringLiteral("content"), QStringLiteral("12345678")}}}}});
}

// A tool schema as Claude Code and MCP servers send it (draft 2020-12).
QJsonObject toolSchema()
{
    return QJsonDocument::fromJson(
               "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"additi"
               "onalProperties\":false,\"properties\":{\"if\":{\"type\":\"string\",\"const\":\"only\"},\"c"
               "ount\":{\"type\":\"integer\",\"exclusiveMinimum\":0},\"items\":{\"type\":\"array\",\"items"
               "\":{\"type\":\"object\",\"additionalProperties\":true,\"properties\":{\"x\":{\"type\":\"st"
               "ring\"}}}},\"choice\":{\"anyOf\":[{\"type\":\"string\",\"$schema\":\"x\"},{\"type\":\"null"
               "\"}]}},\"required\":[\"if\"]}")
        .object();
}

EngineRequest withTools()
{
    QJsonObject body{{QStringLiteral("model"), QStringLiteral("x")},
                     {QStringLiteral("messages"),
                      QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                             {QStringLiteral("content"), QStringLiteral("hi")}}}},
                     {QStringLiteral("tools"),
                      QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                                             {QStringLiteral("function"),
                                              QJsonObject{{QStringLiteral("name"), QStringLiteral("Write")},
                                                          {QStringLiteral("parameters"), toolSchema()}}}}}}};
    return EngineRequest::chat(body);
}

QJsonObject sentSchema(const QString &type)
{
    return sentBody(ChatOperation(), withTools(), type)
        .value(QLatin1String("tools"))
        .toArray()
        .at(0)
        .toObject()
        .value(QLatin1String("function"))
        .toObject()
        .value(QLatin1String("parameters"))
        .toObject();
}

} // namespace

class TestOperations : public QObject
{
    Q_OBJECT

private slots:
    void maxTokensIsClampedPerEntry_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("key");
        QTest::addColumn<qint64>("asked");
        QTest::addColumn<int>("entryCap"); // 0: none set on the entry
        QTest::addColumn<qint64>("sent");

        QTest::newRow("groq, a coding agent's 64000") << "groq"
                                                      << "max_tokens" << qint64(64000) << 0 << qint64(8192);
        QTest::newRow("max_completion_tokens too")
            << "cerebras"
            << "max_completion_tokens" << qint64(64000) << 0 << qint64(8192);
        QTest::newRow("below the cap: unchanged") << "groq"
                                                  << "max_tokens" << qint64(500) << 0 << qint64(500);
        QTest::newRow("the entry's own cap wins") << "groq"
                                                  << "max_tokens" << qint64(64000) << 2000 << qint64(2000);
        QTest::newRow("an entry may allow more") << "groq"
                                                 << "max_tokens" << qint64(64000) << 32768 << qint64(32768);
        QTest::newRow("generic-openai: no default cap")
            << "generic-openai"
            << "max_tokens" << qint64(64000) << 0 << qint64(64000);
    }

    void maxTokensIsClampedPerEntry()
    {
        QFETCH(QString, type);
        QFETCH(QString, key);
        QFETCH(qint64, asked);
        QFETCH(int, entryCap);
        QFETCH(qint64, sent);
        const EngineRequest request = chatAsking(key.toLatin1().constData(), asked);
        const std::optional<int> cap = entryCap > 0 ? std::optional<int>(entryCap) : std::nullopt;
        QCOMPARE(sentBody(ChatOperation(), request, type, cap).value(key).toInteger(), sent);
        // Admission reserves what this entry is really asked for.
        QCOMPARE(reserved(request, type, cap), request.estimatedPromptTokens + sent);
    }

    void toolSchemasLoseWhatTheProviderRefuses()
    {
        // Every provider: no $schema marker anywhere, the rest as sent.
        const QJsonObject groq = sentSchema(QStringLiteral("groq"));
        QVERIFY(!groq.contains(QLatin1String("$schema")));
        QCOMPARE(groq.value(QLatin1String("additionalProperties")), QJsonValue(false));
        const QJsonObject props = groq.value(QLatin1String("properties")).toObject();
        QVERIFY(!props.value(QLatin1String("choice"))
                     .toObject()
                     .value(QLatin1String("anyOf"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .contains(QLatin1String("$schema")));
        QCOMPARE(props.value(QLatin1String("count")).toObject().value(QLatin1String("exclusiveMinimum")),
                 QJsonValue(0));

        // Gemini: the keywords its function declarations refuse go, at every depth; property names stay.
        const QJsonObject gemini = sentSchema(QStringLiteral("google-ai"));
        QVERIFY(!gemini.contains(QLatin1String("$schema")));
        QVERIFY(!gemini.contains(QLatin1String("additionalProperties")));
        const QJsonObject gp = gemini.value(QLatin1String("properties")).toObject();
        QVERIFY2(gp.contains(QLatin1String("if")),
                 QJsonDocument(gemini).toJson().constData()); // a property called "if" is not the keyword
        QCOMPARE(gp.value(QLatin1String("if")).toObject().value(QLatin1String("enum")),
                 QJsonValue(QJsonArray{QStringLiteral("only")}));
        QVERIFY(!gp.value(QLatin1String("if")).toObject().contains(QLatin1String("const")));
        QCOMPARE(gp.value(QLatin1String("count")).toObject().value(QLatin1String("minimum")), QJsonValue(0));
        QVERIFY(!gp.value(QLatin1String("count")).toObject().contains(QLatin1String("exclusiveMinimum")));
        const QJsonObject nested =
            gp.value(QLatin1String("items")).toObject().value(QLatin1String("items")).toObject();
        QVERIFY(!nested.contains(QLatin1String("additionalProperties")));
        QVERIFY(nested.value(QLatin1String("properties")).toObject().contains(QLatin1String("x")));
        QCOMPARE(gemini.value(QLatin1String("required")), QJsonValue(QJsonArray{QStringLiteral("if")}));
    }

    void embeddingsGoToTheirOwnPath()
    {
        const EngineRequest request =
            EngineRequest::embeddings(QJsonObject{{QStringLiteral("model"), QStringLiteral("e")},
                                                  {QStringLiteral("input"), QStringLiteral("12345678")}});
        ProviderConfig provider;
        provider.type = QStringLiteral("generic-openai");
        provider.baseUrl = QStringLiteral("http://127.0.0.1:9/v1/");
        const UpstreamCall::Request upstream = EmbeddingsOperation().upstreamRequest(
            request, provider, ChainEntry{QStringLiteral("p"), QStringLiteral("m"), 0, std::nullopt},
            Settings{});
        QCOMPARE(upstream.url.toString(), QStringLiteral("http://127.0.0.1:9/v1/embeddings"));
        QCOMPARE(QJsonDocument::fromJson(upstream.body).object().value(QLatin1String("model")).toString(),
                 QStringLiteral("m"));
        QCOMPARE(request.estimatedPromptTokens, 2);
        QVERIFY(!EmbeddingsOperation().judgeWhole("{\"error\":{\"message\":\"no\"}}", Settings{}).ok);
        QVERIFY(
            EmbeddingsOperation()
                .judgeWhole(
                    "{\"data\":[{\"embedding\":[0.1]}],\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}",
                    Settings{})
                .ok);
    }

    void entryCapsLoadValidateAndStay()
    {
        const QByteArray yaml = "version: 1\n"
                                "settings: { apiKeys: [k], defaultChain: default }\n"
                                "providers:\n"
                                "  - { id: g, name: G, type: groq, apiKey: k }\n"
                                "chains:\n"
                                "  - name: default\n"
                                "    entries:\n"
                                "      - { provider: g, model: m, maxOutputTokens: 4000 }\n"
                                "      - { provider: g, model: n }\n";
        const ConfigLoadResult loaded = ConfigLoader::loadString(yaml, QStringLiteral("c.yaml"));
        QVERIFY2(loaded.ok(), qPrintable(loaded.errors.join(QLatin1Char('\n'))));
        QCOMPARE(loaded.config->chains.first().entries.at(0).maxOutputTokens, std::optional<int>(4000));
        QVERIFY(!loaded.config->chains.first().entries.at(1).maxOutputTokens);

        QByteArray bad = yaml;
        bad.replace("maxOutputTokens: 4000", "maxOutputTokens: 0");
        const ConfigLoadResult refused = ConfigLoader::loadString(bad, QStringLiteral("c.yaml"));
        QVERIFY(!refused.ok());
        QVERIFY2(refused.errors.join(QLatin1Char('\n'))
                     .contains(QLatin1String("chains[0].entries[0].maxOutputTokens")),
                 qPrintable(refused.errors.join(QLatin1Char('\n'))));
        QVERIFY2(refused.errors.join(QLatin1Char('\n')).contains(QLatin1String(":8")),
                 qPrintable(refused.errors.join(QLatin1Char('\n'))));
    }

    void modelAliasesPickAChain()
    {
        const QByteArray yaml = "version: 1\n"
                                "settings:\n"
                                "  apiKeys: [k]\n"
                                "  defaultChain: default\n"
                                "  modelAliases:\n"
                                "    \"claude-*haiku*\": fast\n"
                                "    \"claude-*\": default\n"
                                "    \"gpt-?o\": fast\n"
                                "providers:\n"
                                "  - { id: g, name: G, type: groq, apiKey: k }\n"
                                "chains:\n"
                                "  - { name: default, entries: [{ provider: g, model: m }] }\n"
                                "  - { name: fast, entries: [{ provider: g, model: n }] }\n";
        const ConfigLoadResult loaded = ConfigLoader::loadString(yaml, QStringLiteral("c.yaml"));
        QVERIFY2(loaded.ok(), qPrintable(loaded.errors.join(QLatin1Char('\n'))));
        const Config &c = *loaded.config;
        QCOMPARE(c.settings.modelAliases.size(), 3);
        QCOMPARE(c.settings.modelAliases.first().first, QStringLiteral("claude-*haiku*"));
        const auto chainOf = [&c](const char *model) { return c.chainForModel(QLatin1String(model))->name; };
        QCOMPARE(chainOf("claude-haiku-4-5-20251001"), QStringLiteral("fast")); // the first match wins
        QCOMPARE(chainOf("Claude-3-5-HAIKU-latest"), QStringLiteral("fast"));   // case-insensitive
        QCOMPARE(chainOf("claude-sonnet-4-5"), QStringLiteral("default"));
        QCOMPARE(chainOf("gpt-4o"), QStringLiteral("fast"));
        QCOMPARE(chainOf("gpt-4o-mini"), QStringLiteral("default")); // a glob matches the whole name
        QCOMPARE(chainOf("fast"), QStringLiteral("fast"));           // a chain's own name first
        QCOMPARE(chainOf("anything"), QStringLiteral("default"));

        QByteArray bad = yaml;
        bad.replace("\"gpt-?o\": fast", "\"gpt-?o\": nowhere");
        const ConfigLoadResult refused = ConfigLoader::loadString(bad, QStringLiteral("c.yaml"));
        QVERIFY(!refused.ok());
        const QString errors = refused.errors.join(QLatin1Char('\n'));
        QVERIFY2(errors.contains(QLatin1String("settings.modelAliases.gpt-?o")), qPrintable(errors));
        QVERIFY2(errors.contains(QLatin1String(":8")), qPrintable(errors));

        // Written back as read, in order, with the entries' caps.
        Config edited = c;
        edited.chains[0].entries[0].maxOutputTokens = 2048;
        const QByteArray written = ConfigWriter::toYaml(edited);
        const ConfigLoadResult again = ConfigLoader::loadString(written, QStringLiteral("w.yaml"));
        QVERIFY2(again.ok(), written.constData());
        QCOMPARE(again.config->settings.modelAliases, c.settings.modelAliases);
        QCOMPARE(again.config->chains[0].entries[0].maxOutputTokens, std::optional<int>(2048));
    }
};

QTEST_GUILESS_MAIN(TestOperations)
#include "tst_operations.moc"
