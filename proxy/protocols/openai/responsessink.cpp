#include "responsessink.h"

#include "enginerequest.h"
#include "openaichatsink.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>

Q_DECLARE_LOGGING_CATEGORY(lcResponses)

namespace {

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

// "resp_", "msg_", "fc_", "call_" followed by 24 random bytes in hex, as OpenAI's ids look.
QString newId(const char *prefix)
{
    QByteArray bytes(24, Qt::Uninitialized);
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return latin(prefix) + QString::fromLatin1(bytes.toHex());
}

QJsonObject outputTextPart(const QString &text)
{
    return QJsonObject{{latin("type"), latin("output_text")},
                       {latin("text"), text},
                       {latin("annotations"), QJsonArray{}},
                       {latin("logprobs"), QJsonArray{}}};
}

// `text` as a JSON string literal (quotes included), UTF-8.
void appendJsonString(QByteArray &out, const QString &text)
{
    static const char hex[] = "0123456789abcdef";
    const QByteArray utf8 = text.toUtf8();
    out.reserve(out.size() + utf8.size() + 2);
    out += '"';
    for (const char c : utf8) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (uchar(c) < 0x20) {
                out += "\\u00";
                out += hex[(uchar(c) >> 4) & 0xf];
                out += hex[uchar(c) & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

} // namespace

ResponsesSink::ResponsesSink(ClientTransport *transport, const QJsonObject &echo,
                             qint64 estimatedPromptTokens, QObject *parent)
    : ProtocolSink(transport, parent)
    , m_echo(echo)
    , m_estimatedPromptTokens(estimatedPromptTokens)
    , m_id(newId("resp_"))
    , m_createdAt(QDateTime::currentSecsSinceEpoch())
{
}

QJsonObject ResponsesSink::responseObject(const QString &status, const QJsonArray &output) const
{
    QJsonObject response{{latin("id"), m_id},
                         {latin("object"), latin("response")},
                         {latin("created_at"), m_createdAt},
                         {latin("status"), status},
                         {latin("background"), false},
                         {latin("error"), QJsonValue::Null},
                         {latin("incomplete_details"), QJsonValue::Null},
                         {latin("output"), output},
                         {latin("previous_response_id"), QJsonValue::Null},
                         {latin("reasoning"), QJsonObject{{latin("effort"), QJsonValue::Null},
                                                          {latin("summary"), QJsonValue::Null}}},
                         {latin("service_tier"), latin("default")},
                         // Nothing is kept here, whatever the request's `store` said.
                         {latin("store"), false},
                         {latin("truncation"), latin("disabled")},
                         {latin("usage"), QJsonValue::Null},
                         {latin("user"), QJsonValue::Null}};
    for (auto it = m_echo.begin(); it != m_echo.end(); ++it)
        response.insert(it.key(), it.value());
    return response;
}

QJsonObject ResponsesSink::itemJson(const Item &item, bool completed)
{
    const QString status = completed ? latin("completed") : latin("in_progress");
    if (item.isCall) {
        return QJsonObject{
            {latin("id"), item.id},     {latin("type"), latin("function_call")},
            {latin("status"), status},  {latin("call_id"), item.callId},
            {latin("name"), item.name}, {latin("arguments"), completed ? item.text : QString()}};
    }
    return QJsonObject{{latin("id"), item.id},
                       {latin("type"), latin("message")},
                       {latin("status"), status},
                       {latin("role"), latin("assistant")},
                       {latin("content"), completed ? QJsonArray{outputTextPart(item.text)} : QJsonArray{}}};
}

QJsonArray ResponsesSink::outputJson() const
{
    QJsonArray output;
    for (const Item &item : m_items)
        output.append(itemJson(item, item.closed));
    return output;
}

QJsonObject ResponsesSink::usageJson(const TokenUsage &usage) const
{
    return QJsonObject{
        {latin("input_tokens"), usage.prompt},
        {latin("input_tokens_details"), QJsonObject{{latin("cached_tokens"), 0}}},
        {latin("output_tokens"), usage.completion},
        {latin("output_tokens_details"), QJsonObject{{latin("reasoning_tokens"), 0}}},
        {latin("total_tokens"), usage.total > 0 ? usage.total : usage.prompt + usage.completion}};
}

void ResponsesSink::applyFinish(QJsonObject *response) const
{
    QString reason;
    if (m_finishReason == QLatin1String("length"))
        reason = latin("max_output_tokens");
    else if (m_finishReason == QLatin1String("content_filter"))
        reason = latin("content_filter");
    if (reason.isEmpty())
        return;
    response->insert(latin("status"), latin("incomplete"));
    response->insert(latin("incomplete_details"), QJsonObject{{latin("reason"), reason}});
}

// ---- A whole answer ----

void ResponsesSink::whole(const WholeAnswer &answer)
{
    const ChatAnswer chat = ChatAnswer::parse(answer.body);
    if (!chat.text.isEmpty() || chat.toolCalls.isEmpty()) {
        Item message;
        message.id = newId("msg_");
        message.text = chat.text;
        message.closed = true;
        m_items.append(message);
    }
    qint64 outputCharacters = chat.text.size();
    for (const ToolCall &call : chat.toolCalls) {
        Item item;
        item.isCall = true;
        item.id = newId("fc_");
        item.callId = call.id.isEmpty() ? newId("call_") : call.id;
        item.name = call.name;
        item.text = call.arguments;
        item.closed = true;
        outputCharacters += call.arguments.size();
        m_items.append(item);
    }
    m_finishReason = chat.finishReason;
    TokenUsage usage = chat.usage.value_or(TokenUsage{});
    if (!chat.usage) {
        usage.prompt = m_estimatedPromptTokens;
        usage.completion = EngineRequest::estimateTokens(outputCharacters);
        usage.total = usage.prompt + usage.completion;
    }
    QJsonObject response = responseObject(latin("completed"), outputJson());
    response.insert(latin("usage"), usageJson(usage));
    applyFinish(&response);
    if (auto *t = transport())
        t->sendWhole(200, QJsonDocument(response).toJson(QJsonDocument::Compact),
                     servedHeaders(answer.servedBy));
}

// ---- A stream ----

void ResponsesSink::send(const QString &type, QJsonObject event)
{
    event.insert(latin("type"), type);
    event.insert(latin("sequence_number"), m_sequence++);
    if (auto *t = transport())
        t->writeChunk("event: " + type.toUtf8() +
                      "\ndata: " + QJsonDocument(event).toJson(QJsonDocument::Compact) + "\n\n");
}

void ResponsesSink::sendDelta(const char *type, const QString &itemId, int outputIndex, const QString &delta,
                              bool text)
{
    // The one event of every chunk, written without building a JSON object: the same fields as send() would
    // give.
    QByteArray event;
    event.reserve(192 + delta.size());
    event += "event: ";
    event += type;
    event += "\ndata: {\"type\":\"";
    event += type;
    event += "\",\"sequence_number\":";
    event += QByteArray::number(m_sequence++);
    event += ",\"item_id\":\"";
    event += itemId.toLatin1();
    event += "\",\"output_index\":";
    event += QByteArray::number(outputIndex);
    if (text)
        event += ",\"content_index\":0";
    event += ",\"delta\":";
    appendJsonString(event, delta);
    if (text)
        event += ",\"logprobs\":[]";
    event += "}\n\n";
    if (auto *t = transport())
        t->writeChunk(event);
}

void ResponsesSink::sendResponse(const char *type, const QByteArray &responseJson)
{
    QByteArray event;
    event.reserve(96 + responseJson.size());
    event += "event: ";
    event += type;
    event += "\ndata: {\"type\":\"";
    event += type;
    event += "\",\"sequence_number\":";
    event += QByteArray::number(m_sequence++);
    event += ",\"response\":";
    event += responseJson;
    event += "}\n\n";
    if (auto *t = transport())
        t->writeChunk(event);
}

void ResponsesSink::begin(const ServedBy &servedBy)
{
    m_streaming = true;
    if (auto *t = transport())
        t->beginStream(200, servedHeaders(servedBy));
    // Both events carry the same object: serialized once.
    const QByteArray response =
        QJsonDocument(responseObject(latin("in_progress"), QJsonArray{})).toJson(QJsonDocument::Compact);
    sendResponse("response.created", response);
    sendResponse("response.in_progress", response);
}

void ResponsesSink::openMessage()
{
    closeOpenItems();
    Item message;
    message.id = newId("msg_");
    m_items.append(message);
    m_openMessage = int(m_items.size() - 1);
    send(latin("response.output_item.added"),
         QJsonObject{{latin("output_index"), m_openMessage}, {latin("item"), itemJson(message, false)}});
    send(latin("response.content_part.added"), QJsonObject{{latin("item_id"), message.id},
                                                           {latin("output_index"), m_openMessage},
                                                           {latin("content_index"), 0},
                                                           {latin("part"), outputTextPart(QString())}});
}

void ResponsesSink::openCall(const ToolCallDelta &delta)
{
    closeOpenItems();
    Item call;
    call.isCall = true;
    call.id = newId("fc_");
    call.toolIndex = delta.index;
    call.callId = delta.id.isEmpty() ? newId("call_") : delta.id;
    call.name = delta.name;
    m_items.append(call);
    send(latin("response.output_item.added"), QJsonObject{{latin("output_index"), int(m_items.size() - 1)},
                                                          {latin("item"), itemJson(call, false)}});
}

void ResponsesSink::closeItem(Item &item)
{
    if (item.closed)
        return;
    item.closed = true;
    const int index = int(&item - m_items.data());
    if (item.isCall) {
        send(latin("response.function_call_arguments.done"), QJsonObject{{latin("item_id"), item.id},
                                                                         {latin("output_index"), index},
                                                                         {latin("name"), item.name},
                                                                         {latin("arguments"), item.text}});
    } else {
        const QJsonObject common{
            {latin("item_id"), item.id}, {latin("output_index"), index}, {latin("content_index"), 0}};
        QJsonObject textDone = common;
        textDone.insert(latin("text"), item.text);
        textDone.insert(latin("logprobs"), QJsonArray{});
        send(latin("response.output_text.done"), textDone);
        QJsonObject partDone = common;
        partDone.insert(latin("part"), outputTextPart(item.text));
        send(latin("response.content_part.done"), partDone);
    }
    send(latin("response.output_item.done"),
         QJsonObject{{latin("output_index"), index}, {latin("item"), itemJson(item, true)}});
}

void ResponsesSink::closeOpenItems()
{
    for (Item &item : m_items)
        closeItem(item);
    m_openMessage = -1;
}

void ResponsesSink::chunk(const StreamPiece &piece)
{
    auto *t = transport();
    if (!t)
        return;
    if (piece.kind() == StreamPiece::Kind::KeepAlive) {
        t->writeChunk(QByteArrayLiteral(": keep-alive\n\n"));
        return;
    }
    const ChatDelta &delta = piece.delta();
    if (!delta.text.isEmpty()) {
        if (m_openMessage < 0)
            openMessage();
        Item &message = m_items[m_openMessage];
        message.text += delta.text;
        sendDelta("response.output_text.delta", message.id, m_openMessage, delta.text, true);
    }
    for (const ToolCallDelta &callDelta : delta.toolCalls) {
        int index = -1;
        for (qsizetype i = 0; i < m_items.size(); ++i) {
            if (m_items.at(i).isCall && m_items.at(i).toolIndex == callDelta.index)
                index = int(i);
        }
        if (index < 0) {
            openCall(callDelta);
            index = int(m_items.size() - 1);
        }
        Item &call = m_items[index];
        if (call.name.isEmpty() && !callDelta.name.isEmpty())
            call.name = callDelta.name;
        if (callDelta.arguments.isEmpty())
            continue;
        call.text += callDelta.arguments;
        if (call.closed) {
            // A provider that interleaves parallel calls: the call's done events went out already; the
            // final response still carries the whole arguments.
            qCWarning(lcResponses) << "arguments arrived for a closed function_call item" << call.id;
            continue;
        }
        sendDelta("response.function_call_arguments.delta", call.id, index, callDelta.arguments, false);
    }
    if (!delta.finishReason.isEmpty())
        m_finishReason = delta.finishReason;
}

void ResponsesSink::usage(const TokenUsage &usage)
{
    m_usage = usage;
    m_haveUsage = true;
}

void ResponsesSink::done()
{
    closeOpenItems();
    QJsonObject response = responseObject(latin("completed"), outputJson());
    if (m_haveUsage)
        response.insert(latin("usage"), usageJson(m_usage));
    applyFinish(&response);
    const bool incomplete = response.value(QLatin1String("status")).toString() == QLatin1String("incomplete");
    sendResponse(incomplete ? "response.incomplete" : "response.completed",
                 QJsonDocument(response).toJson(QJsonDocument::Compact));
    if (auto *t = transport())
        t->endStream();
}

void ResponsesSink::fail(const EngineFailure &failure)
{
    auto *t = transport();
    if (!t)
        return;
    if (!m_streaming) {
        t->sendWhole(failure.error.status, OpenAiChatSink::errorBody(failure), failureHeaders(failure));
        return;
    }
    // What was streamed stays in the output, unfinished; no response.completed follows.
    QJsonObject response = responseObject(latin("failed"), outputJson());
    response.insert(latin("error"),
                    QJsonObject{{latin("code"),
                                 failure.error.code.isEmpty() ? latin("server_error") : failure.error.code},
                                {latin("message"), failure.error.message}});
    sendResponse("response.failed", QJsonDocument(response).toJson(QJsonDocument::Compact));
    t->endStream();
}
