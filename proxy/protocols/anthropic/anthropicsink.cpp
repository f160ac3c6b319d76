#include "anthropicsink.h"

#include "anthropicerror.h"
#include "enginerequest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QUuid>

Q_DECLARE_LOGGING_CATEGORY(lcAnthropic)

namespace {

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

QString newId(const char *prefix)
{
    return QLatin1String(prefix) + QUuid::createUuid().toString(QUuid::Id128).left(24);
}

QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

QJsonObject usageObject(qint64 input, qint64 output)
{
    return QJsonObject{{latin("input_tokens"), input},
                       {latin("output_tokens"), output},
                       {latin("cache_creation_input_tokens"), 0},
                       {latin("cache_read_input_tokens"), 0}};
}

// The first choice's `stop_reason` string, which vLLM-style servers set to the stop sequence that matched.
QString matchedStop(const QJsonObject &root)
{
    const QJsonValue reason =
        root.value(QLatin1String("choices")).toArray().first().toObject().value(QLatin1String("stop_reason"));
    return reason.isString() ? reason.toString() : QString();
}

// Where the value of a key whose closing quote is just before `keyEnd` begins, or -1.
qsizetype valueAfterKey(QByteArrayView data, qsizetype keyEnd)
{
    qsizetype pos = keyEnd;
    while (pos < data.size() && (data.at(pos) == ' ' || data.at(pos) == '\t'))
        ++pos;
    if (pos >= data.size() || data.at(pos) != ':')
        return -1;
    ++pos;
    while (pos < data.size() && (data.at(pos) == ' ' || data.at(pos) == '\t'))
        ++pos;
    return pos < data.size() ? pos : -1;
}

// The end (one past the closing quote) of the JSON string literal that opens at `start`, or -1.
qsizetype stringEnd(QByteArrayView data, qsizetype start)
{
    for (qsizetype pos = start + 1; pos < data.size(); ++pos) {
        if (data.at(pos) == '\\')
            ++pos;
        else if (data.at(pos) == '"')
            return pos + 1;
    }
    return -1;
}

// The fast path for the chunks of a stream that only carry text (nearly all of them): the text's JSON string
// literal is found in the provider's chunk and reused as it is (the escapes of JSON are the same in both
// protocols), without parsing the chunk. False when the chunk may mean more (tool calls, a finish reason,
// more than one choice, anything unusual): the caller parses it. An unescaped `"content"` followed by a colon
// can only be a key, never the inside of a string (whose quotes are all escaped).
bool textLiteral(QByteArrayView data, QByteArrayView *literal)
{
    static const QByteArrayView contentKey("\"content\"");
    static const QByteArrayView finishKey("\"finish_reason\"");
    if (data.contains(QByteArrayView("\"tool_calls\"")) || data.contains(QByteArrayView("\"function_call\"")))
        return false;
    for (qsizetype at = data.indexOf(finishKey); at >= 0; at = data.indexOf(finishKey, at + 1)) {
        const qsizetype value = valueAfterKey(data, at + finishKey.size());
        if (value < 0 || !data.sliced(value).startsWith("null"))
            return false;
    }
    *literal = {};
    for (qsizetype at = data.indexOf(contentKey); at >= 0; at = data.indexOf(contentKey, at + 1)) {
        const qsizetype value = valueAfterKey(data, at + contentKey.size());
        if (value < 0)
            return false;
        if (data.at(value) != '"')
            continue; // null, or logprobs' content array
        const qsizetype end = stringEnd(data, value);
        if (end < 0 || !literal->isEmpty())
            return false; // more than one text: more than one choice
        *literal = data.sliced(value, end - value);
    }
    return true;
}

} // namespace

AnthropicSink::AnthropicSink(ClientTransport *transport, const QString &clientModel,
                             qint64 estimatedInputTokens, const QStringList &stopSequences, QObject *parent)
    : ProtocolSink(transport, parent)
    , m_id(newId("msg_"))
    , m_model(clientModel)
    , m_estimatedInput(estimatedInputTokens)
    , m_stopSequences(stopSequences)
{
}

QJsonObject AnthropicSink::toolInput(const QString &arguments, bool *repaired)
{
    if (repaired)
        *repaired = false;
    QString text = arguments.trimmed();
    if (text.isEmpty())
        return QJsonObject();
    auto object = [](const QString &json, bool *ok) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &error);
        *ok = error.error == QJsonParseError::NoError && doc.isObject();
        return doc.object();
    };
    bool ok = false;
    QJsonObject input = object(text, &ok);
    if (ok)
        return input;
    if (repaired)
        *repaired = true;
    // A ```json fence around the object.
    if (text.startsWith(QLatin1String("```")) && text.endsWith(QLatin1String("```")) && text.size() > 6) {
        QString inner = text.mid(3, text.size() - 6);
        if (inner.startsWith(QLatin1String("json")))
            inner = inner.mid(4);
        input = object(inner.trimmed(), &ok);
        if (ok)
            return input;
    }
    // The object encoded twice: a JSON string whose text is the object.
    const QJsonDocument wrapped = QJsonDocument::fromJson("[" + text.toUtf8() + "]");
    if (wrapped.isArray() && wrapped.array().size() == 1 && wrapped.array().first().isString()) {
        input = object(wrapped.array().first().toString(), &ok);
        if (ok)
            return input;
    }
    qCWarning(lcAnthropic).noquote() << "tool call arguments are not a JSON object; passing {} instead of"
                                     << arguments.left(200);
    return QJsonObject();
}

QByteArray AnthropicSink::event(const QString &type, const QJsonObject &data)
{
    return "event: " + type.toUtf8() + "\ndata: " + QJsonDocument(data).toJson(QJsonDocument::Compact) +
           "\n\n";
}

QString AnthropicSink::stopReason(const QString &finishReason, bool toolCalls, QString *stopSequence) const
{
    stopSequence->clear();
    if (toolCalls || finishReason == QLatin1String("tool_calls") ||
        finishReason == QLatin1String("function_call"))
        return latin("tool_use");
    if (finishReason == QLatin1String("length"))
        return latin("max_tokens");
    if (finishReason == QLatin1String("content_filter"))
        return latin("refusal");
    if (!m_matchedStop.isEmpty() && m_stopSequences.contains(m_matchedStop)) {
        *stopSequence = m_matchedStop;
        return latin("stop_sequence");
    }
    return latin("end_turn");
}

void AnthropicSink::whole(const WholeAnswer &answer)
{
    const ChatAnswer chat = ChatAnswer::parse(answer.body);
    const QJsonObject root = QJsonDocument::fromJson(answer.body).object();
    m_matchedStop = matchedStop(root);
    QJsonArray content;
    if (!chat.text.isEmpty())
        content.append(QJsonObject{{latin("type"), latin("text")}, {latin("text"), chat.text}});
    qint64 outputCharacters = chat.text.size();
    for (const ToolCall &call : chat.toolCalls) {
        content.append(QJsonObject{{latin("type"), latin("tool_use")},
                                   {latin("id"), call.id.isEmpty() ? newId("toolu_") : call.id},
                                   {latin("name"), call.name},
                                   {latin("input"), toolInput(call.arguments)}});
        outputCharacters += call.name.size() + call.arguments.size();
    }
    QString stopSequence;
    const QString reason = stopReason(chat.finishReason, !chat.toolCalls.isEmpty(), &stopSequence);
    const qint64 input = chat.usage ? chat.usage->prompt : m_estimatedInput;
    const qint64 output =
        chat.usage ? chat.usage->completion : EngineRequest::estimateTokens(outputCharacters);
    const QJsonObject message{{latin("id"), m_id},
                              {latin("type"), latin("message")},
                              {latin("role"), latin("assistant")},
                              {latin("model"), m_model},
                              {latin("content"), content},
                              {latin("stop_reason"), reason},
                              {latin("stop_sequence"), orNull(stopSequence)},
                              {latin("usage"), usageObject(input, output)}};
    if (auto *t = transport())
        t->sendWhole(200, QJsonDocument(message).toJson(QJsonDocument::Compact),
                     servedHeaders(answer.servedBy));
}

void AnthropicSink::write(const QString &type, const QJsonObject &data)
{
    if (auto *t = transport())
        t->writeChunk(event(type, data));
}

void AnthropicSink::begin(const ServedBy &servedBy)
{
    m_streaming = true;
    if (auto *t = transport())
        t->beginStream(200, servedHeaders(servedBy));
    const QJsonObject message{{latin("id"), m_id},
                              {latin("type"), latin("message")},
                              {latin("role"), latin("assistant")},
                              {latin("model"), m_model},
                              {latin("content"), QJsonArray()},
                              {latin("stop_reason"), QJsonValue::Null},
                              {latin("stop_sequence"), QJsonValue::Null},
                              {latin("usage"), usageObject(m_estimatedInput, 0)}};
    write(latin("message_start"),
          QJsonObject{{latin("type"), latin("message_start")}, {latin("message"), message}});
}

void AnthropicSink::openText()
{
    if (m_block == Block::Text)
        return;
    closeBlock();
    m_block = Block::Text;
    ++m_blockIndex;
    write(latin("content_block_start"),
          QJsonObject{{latin("type"), latin("content_block_start")},
                      {latin("index"), m_blockIndex},
                      {latin("content_block"),
                       QJsonObject{{latin("type"), latin("text")}, {latin("text"), latin("")}}}});
}

void AnthropicSink::openTool(const QString &id, const QString &name)
{
    closeBlock();
    m_block = Block::Tool;
    ++m_blockIndex;
    m_sawToolCall = true;
    m_toolStreaming = false;
    m_toolHeld.clear();
    write(latin("content_block_start"),
          QJsonObject{{latin("type"), latin("content_block_start")},
                      {latin("index"), m_blockIndex},
                      {latin("content_block"), QJsonObject{{latin("type"), latin("tool_use")},
                                                           {latin("id"), id.isEmpty() ? newId("toolu_") : id},
                                                           {latin("name"), name},
                                                           {latin("input"), QJsonObject()}}}});
}

void AnthropicSink::toolArguments(const QString &arguments)
{
    auto delta = [this](const QString &json) {
        if (json.isEmpty())
            return;
        write(latin("content_block_delta"),
              QJsonObject{{latin("type"), latin("content_block_delta")},
                          {latin("index"), m_blockIndex},
                          {latin("delta"), QJsonObject{{latin("type"), latin("input_json_delta")},
                                                       {latin("partial_json"), json}}}});
    };
    if (m_toolStreaming) {
        delta(arguments);
        return;
    }
    // Relayed as they come once they start like an object; anything else is held and repaired at the end.
    m_toolHeld += arguments;
    const QString start = m_toolHeld.trimmed();
    if (start.startsWith(QLatin1Char('{'))) {
        m_toolStreaming = true;
        delta(m_toolHeld);
        m_toolHeld.clear();
    }
}

void AnthropicSink::closeBlock()
{
    if (m_block == Block::None)
        return;
    if (m_block == Block::Tool) {
        m_closedTools.append(m_toolIndex);
        if (!m_toolStreaming && !m_toolHeld.trimmed().isEmpty()) {
            const QByteArray input = QJsonDocument(toolInput(m_toolHeld)).toJson(QJsonDocument::Compact);
            m_toolStreaming = true;
            toolArguments(QString::fromUtf8(input));
        }
        m_toolIndex = -1;
    }
    write(latin("content_block_stop"),
          QJsonObject{{latin("type"), latin("content_block_stop")}, {latin("index"), m_blockIndex}});
    m_block = Block::None;
}

void AnthropicSink::noteStopSequence(const QByteArray &chunkJson)
{
    if (!chunkJson.contains("\"stop_reason\""))
        return;
    const QString matched = matchedStop(QJsonDocument::fromJson(chunkJson).object());
    if (!matched.isEmpty())
        m_matchedStop = matched;
}

void AnthropicSink::chunk(const StreamPiece &piece)
{
    if (piece.kind() == StreamPiece::Kind::KeepAlive) {
        write(latin("ping"), QJsonObject{{latin("type"), latin("ping")}});
        return;
    }
    QByteArrayView literal;
    if (textLiteral(piece.data(), &literal)) {
        if (literal.size() > 2) { // not ""
            openText();
            static const QByteArrayView head(
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":");
            static const QByteArrayView middle(",\"delta\":{\"type\":\"text_delta\",\"text\":");
            QByteArray event;
            event.reserve(head.size() + middle.size() + literal.size() + 16);
            event.append(head)
                .append(QByteArray::number(m_blockIndex))
                .append(middle)
                .append(literal)
                .append("}}\n\n");
            if (auto *t = transport())
                t->writeChunk(event);
        }
        return;
    }
    const ChatDelta &delta = piece.delta();
    if (!delta.text.isEmpty()) {
        openText();
        write(latin("content_block_delta"),
              QJsonObject{{latin("type"), latin("content_block_delta")},
                          {latin("index"), m_blockIndex},
                          {latin("delta"),
                           QJsonObject{{latin("type"), latin("text_delta")}, {latin("text"), delta.text}}}});
    }
    for (const ToolCallDelta &call : delta.toolCalls) {
        if (m_block != Block::Tool || call.index != m_toolIndex) {
            if (m_closedTools.contains(call.index)) {
                // Its block is closed (the provider interleaved two calls): Anthropic's blocks cannot reopen.
                qCWarning(lcAnthropic) << "dropping arguments of tool call" << call.index
                                       << "that came after the next call began";
                continue;
            }
            openTool(call.id, call.name);
            m_toolIndex = call.index;
        }
        toolArguments(call.arguments);
    }
    if (!delta.finishReason.isEmpty()) {
        m_finishReason = delta.finishReason;
        noteStopSequence(piece.data());
    }
}

void AnthropicSink::usage(const TokenUsage &usage)
{
    m_inputTokens = usage.prompt;
    m_outputTokens = usage.completion;
}

void AnthropicSink::done()
{
    closeBlock();
    QString stopSequence;
    const QString reason = stopReason(m_finishReason, m_sawToolCall, &stopSequence);
    QJsonObject usage{{latin("output_tokens"), m_outputTokens}};
    if (m_inputTokens >= 0)
        usage.insert(latin("input_tokens"), m_inputTokens);
    write(latin("message_delta"),
          QJsonObject{{latin("type"), latin("message_delta")},
                      {latin("delta"), QJsonObject{{latin("stop_reason"), reason},
                                                   {latin("stop_sequence"), orNull(stopSequence)}}},
                      {latin("usage"), usage}});
    write(latin("message_stop"), QJsonObject{{latin("type"), latin("message_stop")}});
    if (auto *t = transport())
        t->endStream();
}

void AnthropicSink::fail(const EngineFailure &failure)
{
    auto *t = transport();
    if (!t)
        return;
    if (m_streaming) {
        t->writeChunk(AnthropicError::sseEvent(failure.error));
        t->endStream();
        return;
    }
    t->sendWhole(failure.error.status, AnthropicError::json(failure.error), failureHeaders(failure));
}
