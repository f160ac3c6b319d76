#include "sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

// SseParser against WHATWG framing and the provider stream shapes in PROVIDERS.md §1.1. Every stream case is
// also fed byte by byte, in every two-way split and in random chunks: chunking must never change the result.
namespace {

// One readable line per item, so a failing QCOMPARE shows what differed.
QByteArray describe(const SseEvent &e)
{
    if (e.kind == SseEvent::Kind::Comment)
        return QByteArrayLiteral(": ") + e.comment;
    QByteArray text;
    if (!e.event.isEmpty())
        text += QByteArrayLiteral("event=") + e.event + ' ';
    if (!e.id.isEmpty())
        text += QByteArrayLiteral("id=") + e.id + ' ';
    QByteArray data = e.data;
    data.replace('\n', QByteArrayLiteral("\\n"));
    return text + QByteArrayLiteral("data=") + data;
}

QByteArrayList describe(const QList<SseEvent> &events)
{
    QByteArrayList lines;
    for (const SseEvent &e : events)
        lines.append(describe(e));
    return lines;
}

QList<SseEvent> parseChunks(const QByteArrayList &chunks, SseParser *parser = nullptr)
{
    SseParser local;
    SseParser &p = parser ? *parser : local;
    QList<SseEvent> out;
    for (const QByteArray &chunk : chunks)
        p.feed(chunk, out);
    return out;
}

QList<SseEvent> parseWhole(const QByteArray &stream)
{
    return parseChunks({stream});
}

QByteArray chunkJson(const QByteArray &choices, const QByteArray &usage = QByteArrayLiteral("null"))
{
    return QByteArrayLiteral(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,)") +
           QByteArrayLiteral(R"("model":"gpt-4o-mini","choices":)") + choices +
           QByteArrayLiteral(R"(,"usage":)") + usage + '}';
}

QByteArray deltaChoice(const QByteArray &delta, const QByteArray &finish = QByteArrayLiteral("null"))
{
    return QByteArrayLiteral(R"([{"index":0,"delta":)") + delta + QByteArrayLiteral(R"(,"finish_reason":)") +
           finish + QByteArrayLiteral("}]");
}

// A realistic OpenAI stream with stream_options.include_usage: role chunk, content, finish, usage-only,
// [DONE].
QList<QByteArray> openAiChunks()
{
    return {chunkJson(deltaChoice(QByteArrayLiteral(R"({"role":"assistant","content":""})"))),
            chunkJson(deltaChoice(QByteArrayLiteral(R"({"content":"Hel"})"))),
            chunkJson(deltaChoice(QByteArrayLiteral(R"({"content":"lo\n\nworld"})"))),
            chunkJson(deltaChoice(QByteArrayLiteral("{}"), QByteArrayLiteral(R"("stop")"))),
            chunkJson(QByteArrayLiteral("[]"),
                      QByteArrayLiteral(R"({"prompt_tokens":9,"completion_tokens":3,"total_tokens":12})"))};
}

QByteArray openAiStream()
{
    QByteArray stream;
    for (const QByteArray &json : openAiChunks())
        stream += QByteArrayLiteral("data: ") + json + QByteArrayLiteral("\n\n");
    return stream + QByteArrayLiteral("data: [DONE]\n\n");
}

QByteArrayList openAiExpected()
{
    QByteArrayList expected;
    for (const QByteArray &json : openAiChunks())
        expected.append(QByteArrayLiteral("data=") + json);
    expected.append(QByteArrayLiteral("data=[DONE]"));
    return expected;
}

struct StreamCase
{
    const char *name;
    QByteArray stream;
    QByteArrayList expected;
    bool partial = false; // stream ends inside an event
};

QList<StreamCase> streamCases()
{
    const QByteArray groqError = QByteArrayLiteral(
        R"({"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}})");
    return {
        {"single event", "data: hello\n\n", {"data=hello"}},
        {"two events", "data: one\n\ndata: two\n\n", {"data=one", "data=two"}},
        {"multi-line data", "data: a\ndata: b\ndata:\ndata: c\n\n", {"data=a\\nb\\n\\nc"}},
        {"data without space", "data:x\n\n", {"data=x"}},
        {"only one space stripped", "data:  two\n\n", {"data= two"}},
        {"colon inside value", "data: {\"a\":\"b: c\"}\n\n", {"data={\"a\":\"b: c\"}"}},
        {"field without colon", "data\n\n", {"data="}},
        {"CRLF", "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", {"data=a\\nb", "data=c"}},
        {"lone CR", "data: a\rdata: b\r\rdata: c\r\r", {"data=a\\nb", "data=c"}},
        {"mixed line ends", "data: a\r\n\ndata: b\r\r\ndata: c\n\r", {"data=a", "data=b", "data=c"}},
        {"leading blank lines", "\n\r\n\rdata: x\n\n", {"data=x"}},
        {"BOM skipped",
         "\xEF\xBB\xBF"
         "data: x\n\n",
         {"data=x"}},
        {"BOM only at start",
         "data: x\n\n\xEF\xBB\xBF"
         "data: y\n\n",
         {"data=x"}},
        {"partial BOM is data",
         "\xEF\xBB"
         "data: y\n\ndata: z\n\n",
         {"data=z"}},
        {"OpenRouter comments in order",
         ": OPENROUTER PROCESSING\n\ndata: a\n\n: OPENROUTER PROCESSING\n\ndata: b\n\n",
         {": OPENROUTER PROCESSING", "data=a", ": OPENROUTER PROCESSING", "data=b"}},
        {"comment inside an event", "data: a\n: keep-alive\ndata: b\n\n", {": keep-alive", "data=a\\nb"}},
        {"comment spacing", ":\n:x\n:  y\n", {": ", ": x", ":  y"}},
        {"Groq event error",
         "data: {\"x\":1}\n\nevent: error\ndata: " + groqError + "\n\n",
         {"data={\"x\":1}", "event=error data=" + groqError}},
        {"event type does not leak",
         "event: error\ndata: x\n\ndata: y\n\n",
         {"event=error data=x", "data=y"}},
        {"last event line wins", "event: a\nevent: b\ndata: x\n\n", {"event=b data=x"}},
        {"id field", "id: 42\ndata: x\n\ndata: y\n\n", {"id=42 data=x", "data=y"}},
        {"id with NUL ignored",
         QByteArrayLiteral("id: 4\0"
                           "2\ndata: x\n\n"),
         {"data=x"}},
        {"events without data not dispatched",
         "event: ping\n\nid: 5\n\nretry: 1000\n\nfoo: bar\n\ndata: z\n\n",
         {"data=z"}},
        {"named event with empty data", "event: ping\ndata:\n\n", {"event=ping data="}},
        {"retry ignored", "retry: 3000\ndata: x\n\n", {"data=x"}},
        {"DONE", "data: {}\n\ndata: [DONE]\n\n", {"data={}", "data=[DONE]"}},
        {"unfinished event", "data: a\n\ndata: b\n", {"data=a"}, true},
        {"unterminated line", "data: a\n\ndata: b", {"data=a"}, true},
        {"unfinished named event", "event: error\n", {}, true},
        {"realistic OpenAI stream with usage chunk", openAiStream(), openAiExpected()},
    };
}

SseEvent dataEvent(const QByteArray &data, const QByteArray &event = {}, const QByteArray &id = {})
{
    SseEvent e;
    e.data = data;
    e.event = event;
    e.id = id;
    return e;
}

SseEvent commentEvent(const QByteArray &text)
{
    SseEvent e;
    e.kind = SseEvent::Kind::Comment;
    e.comment = text;
    return e;
}

} // namespace

class TestSseParser : public QObject
{
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void mergedStreams();
    void crAtEndOfFeedThenLf();
    void hasPartialData();
    void reset();
    void isDone_data();
    void isDone();
    void serializeFormat();
    void serializeRoundTrip_data();
    void serializeRoundTrip();
    void serializeKeepsFraming();
    void reframedStreamParsesTheSame();
    void openAiUsageChunk();
    void overflowOnLongLine();
    void overflowOnLongEvent();
    void overflowBoundary();
    void overflowKeepsEarlierEvents();
    void manyLinesInOneFeed();
    void longLineInManyFeeds();
};

void TestSseParser::parse_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addColumn<bool>("partial");
    for (const StreamCase &c : streamCases())
        QTest::newRow(c.name) << c.stream << c.expected << c.partial;
}

void TestSseParser::parse()
{
    QFETCH(QByteArray, stream);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, partial);

    SseParser whole;
    const QList<SseEvent> reference = parseChunks({stream}, &whole);
    QCOMPARE(describe(reference), expected);
    QCOMPARE(whole.hasPartialData(), partial);
    QVERIFY(!whole.overflowed());

    QByteArrayList bytes;
    for (char c : stream)
        bytes.append(QByteArray(1, c));
    SseParser byteByByte;
    QCOMPARE(parseChunks(bytes, &byteByByte), reference);
    QCOMPARE(byteByByte.hasPartialData(), partial);

    for (qsizetype split = 0; split <= stream.size(); ++split) {
        SseParser parser;
        const QList<SseEvent> events = parseChunks({stream.first(split), stream.sliced(split)}, &parser);
        if (events != reference || parser.hasPartialData() != partial)
            QFAIL(qPrintable(QStringLiteral("split at %1 gave %2")
                                 .arg(split)
                                 .arg(QString::fromUtf8(describe(events).join('|')))));
    }

    QRandomGenerator random(1234);
    for (int round = 0; round < 20; ++round) {
        QByteArrayList chunks;
        for (qsizetype pos = 0; pos < stream.size();) {
            const qsizetype size = random.bounded(1, 17);
            chunks.append(stream.mid(pos, size));
            pos += size;
        }
        QCOMPARE(parseChunks(chunks), reference);
    }
}

void TestSseParser::mergedStreams()
{
    // Complete streams back to back parse as the concatenation of their results (BOM and CR-ended cases
    // excluded: the BOM is only special at the start, and a trailing CR would swallow the next stream's
    // leading LF).
    QByteArray merged;
    QByteArrayList expected;
    for (const StreamCase &c : streamCases()) {
        if (c.partial || c.stream.startsWith('\xEF') || c.stream.endsWith('\r'))
            continue;
        merged += c.stream;
        expected += c.expected;
    }
    QCOMPARE(describe(parseWhole(merged)), expected);

    QByteArrayList bytes;
    for (char c : merged)
        bytes.append(QByteArray(1, c));
    QCOMPARE(describe(parseChunks(bytes)), expected);
}

void TestSseParser::crAtEndOfFeedThenLf()
{
    // "\r" then "\n" in the next feed is one line end: the data lines join instead of dispatching "a" alone.
    QCOMPARE(describe(parseChunks({"data: a\r", "\ndata: b\r\n\r\n"})), QByteArrayList({"data=a\\nb"}));
    // An empty feed in between changes nothing.
    QCOMPARE(describe(parseChunks({"data: a\r", "", "\ndata: b\r", "", "\n\r", "\n"})),
             QByteArrayList({"data=a\\nb"}));
    // A CR then a non-LF byte: the CR alone ended the line.
    QCOMPARE(describe(parseChunks({"data: a\r", "\r"})), QByteArrayList({"data=a"}));
}

void TestSseParser::hasPartialData()
{
    SseParser parser;
    QList<SseEvent> out;
    QVERIFY(!parser.hasPartialData());
    parser.feed("\xEF", out);
    QVERIFY(parser.hasPartialData()); // maybe the start of a BOM
    parser.feed("\xBB\xBF", out);
    QVERIFY(!parser.hasPartialData());
    parser.feed(": comment\n", out);
    QVERIFY(!parser.hasPartialData());
    parser.feed("data: a", out);
    QVERIFY(parser.hasPartialData());
    parser.feed("\n", out);
    QVERIFY(parser.hasPartialData());
    parser.feed("\n", out);
    QVERIFY(!parser.hasPartialData());
    parser.feed("event: x\n", out);
    QVERIFY(parser.hasPartialData());
    parser.feed("\n", out); // no data: dropped, nothing pending
    QVERIFY(!parser.hasPartialData());
    QCOMPARE(describe(out), QByteArrayList({": comment", "data=a"}));
}

void TestSseParser::reset()
{
    SseParser parser;
    QList<SseEvent> out;
    parser.feed("\xEF\xBB\xBF"
                "event: e\ndata: half",
                out);
    parser.reset();
    QVERIFY(!parser.hasPartialData());
    parser.feed("\xEF\xBB\xBF"
                "data: fresh\n\n",
                out); // a BOM is skipped again after reset
    QCOMPARE(describe(out), QByteArrayList({"data=fresh"}));
}

void TestSseParser::isDone_data()
{
    QTest::addColumn<SseEvent>("event");
    QTest::addColumn<bool>("done");
    QTest::newRow("DONE") << dataEvent("[DONE]") << true;
    QTest::newRow("DONE with whitespace") << dataEvent(" [DONE]") << true;
    QTest::newRow("lower case") << dataEvent("[done]") << false;
    QTest::newRow("json") << dataEvent("{\"choices\":[]}") << false;
    QTest::newRow("empty") << dataEvent("") << false;
    QTest::newRow("comment") << commentEvent("[DONE]") << false;
}

void TestSseParser::isDone()
{
    QFETCH(SseEvent, event);
    QFETCH(bool, done);
    QCOMPARE(event.isDone(), done);
}

void TestSseParser::serializeFormat()
{
    QCOMPARE(commentEvent("OPENROUTER PROCESSING").serialize(), QByteArray(": OPENROUTER PROCESSING\n\n"));
    QCOMPARE(dataEvent("{}").serialize(), QByteArray("data: {}\n\n"));
    QCOMPARE(dataEvent("a\nb", "error", "7").serialize(),
             QByteArray("event: error\nid: 7\ndata: a\ndata: b\n\n"));
    QCOMPARE(dataEvent("").serialize(), QByteArray("data: \n\n"));
    QCOMPARE(dataEvent("[DONE]").serialize(), QByteArray("data: [DONE]\n\n"));
}

void TestSseParser::serializeRoundTrip_data()
{
    QTest::addColumn<SseEvent>("event");
    QTest::newRow("plain") << dataEvent("{\"a\":1}");
    QTest::newRow("multi-line") << dataEvent("a\nb\nc");
    QTest::newRow("blank lines inside") << dataEvent("a\n\n\nb");
    QTest::newRow("trailing newline") << dataEvent("a\n");
    QTest::newRow("leading space kept") << dataEvent(" x");
    QTest::newRow("empty data") << dataEvent("");
    QTest::newRow("empty named") << dataEvent("", "ping");
    QTest::newRow("named with id") << dataEvent("{\"error\":{}}", "error", "id-1");
    QTest::newRow("DONE") << dataEvent("[DONE]");
    QTest::newRow("colons") << dataEvent("data: not a field");
    QTest::newRow("comment") << commentEvent("OPENROUTER PROCESSING");
    QTest::newRow("empty comment") << commentEvent("");
    QTest::newRow("comment with leading space") << commentEvent(" spaced");
}

void TestSseParser::serializeRoundTrip()
{
    QFETCH(SseEvent, event);
    const QList<SseEvent> parsed = parseWhole(event.serialize());
    QCOMPARE(parsed.size(), 1);
    QCOMPARE(describe(parsed.first()), describe(event));
    QVERIFY(parsed.first() == event);
}

void TestSseParser::serializeKeepsFraming()
{
    // Line breaks a hand-built event carries must not end the event early or inject fields.
    QCOMPARE(describe(parseWhole(dataEvent("a\r\nb\rc").serialize())), QByteArrayList({"data=a\\nb\\nc"}));
    QCOMPARE(describe(parseWhole(dataEvent("x", "error\ndata: injected", "1\n\n").serialize())),
             QByteArrayList({"event=error id=1 data=x"}));
    QCOMPARE(describe(parseWhole(commentEvent("one\ntwo").serialize())), QByteArrayList({": one", ": two"}));
}

void TestSseParser::reframedStreamParsesTheSame()
{
    const QByteArray crlfStream = QByteArrayLiteral(": OPENROUTER PROCESSING\r\n\r\nevent: error\r\nid: 3\r\n"
                                                    "data: {\"e\":1}\r\ndata: more\r\n\r\n") +
                                  openAiStream();
    const QList<SseEvent> events = parseWhole(crlfStream);
    QByteArray reframed;
    for (const SseEvent &e : events)
        reframed += e.serialize();
    QCOMPARE(parseWhole(reframed), events);
    QVERIFY(!reframed.contains('\r'));
}

void TestSseParser::openAiUsageChunk()
{
    const QList<SseEvent> events = parseWhole(openAiStream());
    QCOMPARE(events.size(), 6);
    QVERIFY(events.last().isDone());
    for (qsizetype i = 0; i + 1 < events.size(); ++i) {
        QVERIFY(!events[i].isDone());
        QVERIFY(!QJsonDocument::fromJson(events[i].data).isNull());
    }
    const QJsonObject usageChunk = QJsonDocument::fromJson(events[4].data).object();
    QVERIFY(usageChunk.value(QLatin1String("choices")).toArray().isEmpty());
    QCOMPARE(usageChunk.value(QLatin1String("usage")).toObject().value(QLatin1String("total_tokens")).toInt(),
             12);
    const QJsonObject textChunk = QJsonDocument::fromJson(events[2].data).object();
    const QJsonObject delta = textChunk.value(QLatin1String("choices"))
                                  .toArray()
                                  .first()
                                  .toObject()
                                  .value(QLatin1String("delta"))
                                  .toObject();
    QCOMPARE(delta.value(QLatin1String("content")).toString(), QStringLiteral("lo\n\nworld"));
}

void TestSseParser::overflowOnLongLine()
{
    // A line that never ends: fed in pieces, the parser gives up as soon as it holds more than the limit.
    SseParser parser(1024);
    QList<SseEvent> out;
    parser.feed("data: ", out);
    const QByteArray piece(100, 'x');
    int fed = 6;
    while (!parser.overflowed() && fed < 100 * 1024) {
        parser.feed(piece, out);
        fed += piece.size();
    }
    QVERIFY(parser.overflowed());
    QVERIFY(fed > 1024);
    QVERIFY(fed <= 1024 + piece.size());
    QVERIFY(!parser.hasPartialData()); // buffers dropped
    QVERIFY(out.isEmpty());

    parser.feed("\n\ndata: after\n\n", out); // the stream is broken: ignored
    QVERIFY(out.isEmpty());
    QVERIFY(parser.overflowed());

    parser.reset();
    QVERIFY(!parser.overflowed());
    parser.feed("data: after\n\n", out);
    QCOMPARE(describe(out), QByteArrayList({"data=after"}));
}

void TestSseParser::overflowOnLongEvent()
{
    // Many short data lines that add up past the limit without a blank line.
    SseParser parser(1024);
    QList<SseEvent> out;
    const QByteArray line = QByteArrayLiteral("data: ") + QByteArray(50, 'y') + '\n';
    int lines = 0;
    while (!parser.overflowed() && lines < 1000) {
        parser.feed(line, out);
        ++lines;
    }
    QVERIFY(parser.overflowed());
    QVERIFY(lines * 51 <= 1024 + 51);
    QVERIFY(!parser.hasPartialData());
    QVERIFY(out.isEmpty());
}

void TestSseParser::overflowBoundary()
{
    // A line of exactly maxEventBytes is accepted; one byte more is not.
    {
        SseParser parser(16);
        QList<SseEvent> out;
        parser.feed("data: 0123456789\n\n", out); // a 16-byte line
        QVERIFY(!parser.overflowed());
        QCOMPARE(describe(out), QByteArrayList({"data=0123456789"}));
    }
    {
        SseParser parser(16);
        QList<SseEvent> out;
        parser.feed("data: 01234567890\n\n", out);
        QVERIFY(parser.overflowed());
        QVERIFY(out.isEmpty());
    }
    {
        SseParser parser(16);
        QList<SseEvent> out;
        parser.feed("data: 0123456789", out); // buffered, at the limit
        QVERIFY(!parser.overflowed());
        parser.feed("0", out);
        QVERIFY(parser.overflowed());
    }
}

void TestSseParser::overflowKeepsEarlierEvents()
{
    SseParser parser(64);
    QList<SseEvent> out;
    const QByteArray stream =
        QByteArrayLiteral("data: ok\n\n: note\n\ndata: ") + QByteArray(100, 'z') + "\n\ndata: lost\n\n";
    parser.feed(stream, out);
    QVERIFY(parser.overflowed());
    QCOMPARE(describe(out), QByteArrayList({"data=ok", ": note"}));
}

void TestSseParser::manyLinesInOneFeed()
{
    // Lone-CR framing in one big chunk: line scanning must stay linear (a rescan per line would take
    // minutes).
    const int count = 100'000;
    QByteArray stream;
    stream.reserve(count * 10);
    for (int i = 0; i < count; ++i)
        stream += "data: x\r\r";
    stream += "data: last\n\n";
    const QList<SseEvent> events = parseWhole(stream);
    QCOMPARE(events.size(), count + 1);
    QCOMPARE(events.last().data, QByteArray("last"));
}

void TestSseParser::longLineInManyFeeds()
{
    // A 4 MiB data line arriving in 4 KiB reads; only the new bytes are scanned each time.
    const QByteArray payload(4 * 1024 * 1024, 'p');
    const QByteArray stream = QByteArrayLiteral("data: ") + payload + QByteArrayLiteral("\n\ndata: next\n\n");
    SseParser parser;
    QList<SseEvent> out;
    for (qsizetype pos = 0; pos < stream.size(); pos += 4096)
        parser.feed(QByteArrayView(stream).sliced(pos, qMin<qsizetype>(4096, stream.size() - pos)), out);
    QVERIFY(!parser.overflowed());
    QCOMPARE(out.size(), 2);
    QCOMPARE(out.first().data.size(), payload.size());
    QVERIFY(out.first().data == payload);
    QCOMPARE(out.last().data, QByteArray("next"));
}

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
