// What the router reads from provider JSON: content, usage, errors, and the relay's cheap content count.

#include "streamchunk.h"

#include <QJsonDocument>
#include <QtTest>

class TestStreamChunk : public QObject
{
    Q_OBJECT

private slots:
    void inspect_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<bool>("hasContent");
        QTest::addColumn<bool>("finished");
        QTest::addColumn<bool>("hasError");
        QTest::addColumn<bool>("usageOnly");
        QTest::addColumn<qint64>("totalTokens"); // -1: no usage

        QTest::newRow("role chunk")
            << QByteArray("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}")
            << false << false << false << false << qint64(-1);
        QTest::newRow("content")
            << QByteArray("{\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}") << true
            << false << false << false << qint64(-1);
        QTest::newRow("tool call") << QByteArray("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
                                                 "\"function\":{\"name\":\"f\"}}]}}]}")
                                   << true << false << false << false << qint64(-1);
        QTest::newRow("reasoning") << QByteArray("{\"choices\":[{\"delta\":{\"reasoning\":\"thinking\"}}]}")
                                   << true << false << false << false << qint64(-1);
        QTest::newRow("finish") << QByteArray("{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}")
                                << false << true << false << false << qint64(-1);
        QTest::newRow("usage only") << QByteArray("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                                                  "\"completion_tokens\":4,\"total_tokens\":7}}")
                                    << false << false << false << true << qint64(7);
        QTest::newRow("usage on finish chunk")
            << QByteArray("{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_"
                          "tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}")
            << false << true << false << false << qint64(2);
        QTest::newRow("groq x_groq usage")
            << QByteArray("{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"r\","
                          "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5,\"total_tokens\":10}}}")
            << false << true << false << false << qint64(10);
        QTest::newRow("openrouter error chunk")
            << QByteArray("{\"error\":{\"code\":\"server_error\",\"message\":\"Provider "
                          "disconnected\"},\"choices\":[{\"delta\":{\"content\":\"\"},\"finish_reason\":"
                          "\"error\"}]}")
            << false << false << true << false << qint64(-1);
        QTest::newRow("finish_reason error alone")
            << QByteArray("{\"choices\":[{\"delta\":{},\"finish_reason\":\"error\"}]}") << false << false
            << true << false << qint64(-1);
        QTest::newRow("not json") << QByteArray("garbage{") << false << false << false << false << qint64(-1);
    }

    void inspect()
    {
        QFETCH(QByteArray, data);
        QFETCH(bool, hasContent);
        QFETCH(bool, finished);
        QFETCH(bool, hasError);
        QFETCH(bool, usageOnly);
        QFETCH(qint64, totalTokens);
        const auto info = StreamChunk::inspect(data);
        QCOMPARE(info.hasContent, hasContent);
        QCOMPARE(info.finished, finished);
        QCOMPARE(info.hasError, hasError);
        QCOMPARE(info.usageOnly, usageOnly);
        QCOMPARE(info.usage ? info.usage->total : qint64(-1), totalTokens);
    }

    void errorMessage_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("openai")
            << QByteArray("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}")
            << QStringLiteral("Rate limit reached");
        QTest::newRow("cerebras flat")
            << QByteArray(
                   "{\"message\":\"Tokens per day limit exceeded\",\"type\":\"too_many_tokens_error\"}")
            << QStringLiteral("Tokens per day limit exceeded");
        QTest::newRow("gemini array") << QByteArray("[{\"error\":{\"code\":429,\"message\":\"Resource has "
                                                    "been exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}]")
                                      << QStringLiteral("Resource has been exhausted");
        QTest::newRow("openrouter raw") << QByteArray("{\"error\":{\"message\":\"Provider returned "
                                                      "error\",\"metadata\":{\"raw\":\"upstream busy\"}}}")
                                        << QStringLiteral("Provider returned error (upstream busy)");
        QTest::newRow("plain text") << QByteArray("Bad Gateway\n") << QStringLiteral("Bad Gateway");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("(empty body)");
    }

    void errorMessage()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        QCOMPARE(StreamChunk::errorMessage(body), message);
    }

    void contentCharacters_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<qint64>("chars");
        QTest::newRow("plain") << QByteArray("{\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}")
                               << qint64(5);
        QTest::newRow("spaces around colon") << QByteArray("{\"delta\":{\"content\" : \"ab\"}}") << qint64(2);
        QTest::newRow("escapes") << QByteArray("{\"delta\":{\"content\":\"a\\\"b\\nc\\u00e9\"}}")
                                 << qint64(6);
        QTest::newRow("utf-8") << QByteArray("{\"delta\":{\"content\":\"h\xc3\xa9llo \xe2\x82\xac\"}}")
                               << qint64(7);
        QTest::newRow("null content") << QByteArray("{\"delta\":{\"content\":null}}") << qint64(0);
        QTest::newRow("reasoning_content is not content")
            << QByteArray("{\"delta\":{\"reasoning_content\":\"xyz\"}}") << qint64(0);
        QTest::newRow("truncated") << QByteArray("{\"delta\":{\"content\":\"abc") << qint64(3);
    }

    void contentCharacters()
    {
        QFETCH(QByteArray, data);
        QFETCH(qint64, chars);
        QCOMPARE(StreamChunk::contentCharacters(data), chars);
    }

    void normalizeReasoning()
    {
        QJsonObject obj = QJsonDocument::fromJson(
                              "{\"choices\":[{\"message\":{\"content\":\"\",\"reasoning_content\":\"42\"}}]}")
                              .object();
        QVERIFY(StreamChunk::normalizeReasoning(obj));
        const QJsonObject msg = obj.value(QLatin1String("choices"))
                                    .toArray()
                                    .first()
                                    .toObject()
                                    .value(QLatin1String("message"))
                                    .toObject();
        QCOMPARE(msg.value(QLatin1String("content")).toString(), QStringLiteral("42"));
        QVERIFY(!msg.contains(QLatin1String("reasoning_content")));
        QJsonObject untouched =
            QJsonDocument::fromJson(
                "{\"choices\":[{\"delta\":{\"content\":\"x\",\"reasoning_content\":\"y\"}}]}")
                .object();
        QVERIFY(!StreamChunk::normalizeReasoning(untouched));
    }
};

QTEST_GUILESS_MAIN(TestStreamChunk)
#include "tst_streamchunk.moc"
