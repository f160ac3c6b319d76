#include "responsesrequest.h"

#include "requestbody.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSet>

Q_LOGGING_CATEGORY(lcResponses, "chain.http.responses")

namespace {

using Error = std::optional<ApiError>;

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

bool absent(const QJsonValue &v)
{
    return v.isUndefined() || v.isNull();
}

ApiError invalid(const QString &message, const QString &param = {})
{
    return ApiError::invalidRequest(message, param);
}

// History items that carry nothing a chat upstream can take: what a model thought, what a hosted tool did.
bool isDroppedItem(const QString &type)
{
    static const QSet<QString> dropped{latin("reasoning"),
                                       latin("web_search_call"),
                                       latin("file_search_call"),
                                       latin("image_generation_call"),
                                       latin("code_interpreter_call"),
                                       latin("mcp_list_tools"),
                                       latin("mcp_approval_request")};
    return dropped.contains(type);
}

// Builds the chat messages from the input items, in order.
class MessageBuilder
{
public:
    QJsonArray messages;

    Error addItem(const QJsonValue &value, const QString &param)
    {
        if (!value.isObject())
            return invalid(latin("'%1' must be an object.").arg(param), param);
        const QJsonObject item = value.toObject();
        const QJsonValue typeValue = item.value(QLatin1String("type"));
        if (!absent(typeValue) && !typeValue.isString())
            return invalid(latin("'%1.type' must be a string.").arg(param), param + latin(".type"));
        // An item without a type is a message (the SDK's EasyInputMessage).
        const QString type = typeValue.isString() ? typeValue.toString() : latin("message");
        if (type == QLatin1String("message"))
            return addMessage(item, param);
        if (type == QLatin1String("function_call"))
            return addFunctionCall(item, param);
        if (type == QLatin1String("function_call_output"))
            return addFunctionOutput(item, param);
        if (isDroppedItem(type))
            return std::nullopt;
        if (type == QLatin1String("item_reference"))
            return invalid(
                latin("'%1' is an item_reference: this proxy stores no items; send the item itself.")
                    .arg(param),
                param);
        return invalid(latin("'%1.type' \"%2\" is not supported here; supported input items are message, "
                             "function_call, function_call_output and reasoning (dropped).")
                           .arg(param, type),
                       param + latin(".type"));
    }

private:
    QSet<QString> m_callIds;

    Error addMessage(const QJsonObject &item, const QString &param)
    {
        const QJsonValue roleValue = item.value(QLatin1String("role"));
        if (!roleValue.isString())
            return invalid(latin("'%1.role' is required and must be a string.").arg(param),
                           param + latin(".role"));
        QString role = roleValue.toString();
        if (role == QLatin1String("developer"))
            role = latin("system");
        if (role != QLatin1String("user") && role != QLatin1String("assistant") &&
            role != QLatin1String("system"))
            return invalid(latin("'%1.role' must be user, assistant, system or developer.").arg(param),
                           param + latin(".role"));
        QJsonValue content;
        if (const auto error = translateContent(item.value(QLatin1String("content")), role,
                                                param + latin(".content"), &content))
            return error;
        messages.append(QJsonObject{{latin("role"), role}, {latin("content"), content}});
        return std::nullopt;
    }

    // A string stays a string; parts become chat parts. Only a user message may carry images, and one
    // without images is sent as plain text, which every provider takes for every role.
    static Error translateContent(const QJsonValue &value, const QString &role, const QString &param,
                                  QJsonValue *out)
    {
        if (value.isString()) {
            *out = value;
            return std::nullopt;
        }
        if (!value.isArray())
            return invalid(latin("'%1' must be a string or an array of content parts.").arg(param), param);
        QJsonArray parts;
        QString text;
        bool hasImage = false;
        const QJsonArray list = value.toArray();
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QString partParam = latin("%1[%2]").arg(param).arg(i);
            const QJsonObject part = list.at(i).toObject();
            const QString type = part.value(QLatin1String("type")).toString();
            if (type == QLatin1String("input_text") || type == QLatin1String("output_text") ||
                type == QLatin1String("text") || type == QLatin1String("refusal")) {
                const QJsonValue t = part.value(type == QLatin1String("refusal") ? QLatin1String("refusal")
                                                                                 : QLatin1String("text"));
                if (!t.isString())
                    return invalid(latin("'%1' needs a string text.").arg(partParam), partParam);
                parts.append(QJsonObject{{latin("type"), latin("text")}, {latin("text"), t}});
                text += t.toString();
            } else if (type == QLatin1String("input_image")) {
                if (role != QLatin1String("user"))
                    return invalid(latin("'%1': only user messages may carry images.").arg(partParam),
                                   partParam);
                const QJsonValue url = part.value(QLatin1String("image_url"));
                if (!url.isString() || url.toString().isEmpty())
                    return invalid(latin("'%1' needs image_url (an https or data: URL); file_id is not "
                                         "supported here.")
                                       .arg(partParam),
                                   partParam);
                QJsonObject image{{latin("url"), url}};
                const QJsonValue detail = part.value(QLatin1String("detail"));
                if (detail.isString())
                    image.insert(latin("detail"), detail);
                parts.append(QJsonObject{{latin("type"), latin("image_url")}, {latin("image_url"), image}});
                hasImage = true;
            } else {
                return invalid(latin("'%1.type' must be input_text, output_text, refusal or input_image "
                                     "(files and audio are not supported here).")
                                   .arg(partParam),
                               partParam + latin(".type"));
            }
        }
        *out = hasImage ? QJsonValue(parts) : QJsonValue(text);
        return std::nullopt;
    }

    Error addFunctionCall(const QJsonObject &item, const QString &param)
    {
        const QString callId = item.value(QLatin1String("call_id")).toString();
        const QJsonValue name = item.value(QLatin1String("name"));
        const QJsonValue arguments = item.value(QLatin1String("arguments"));
        if (callId.isEmpty())
            return invalid(latin("'%1.call_id' is required.").arg(param), param + latin(".call_id"));
        if (!name.isString() || name.toString().isEmpty())
            return invalid(latin("'%1.name' is required.").arg(param), param + latin(".name"));
        if (!absent(arguments) && !arguments.isString())
            return invalid(latin("'%1.arguments' must be a JSON string.").arg(param),
                           param + latin(".arguments"));
        m_callIds.insert(callId);
        const QJsonObject call{
            {latin("id"), callId},
            {latin("type"), latin("function")},
            {latin("function"),
             QJsonObject{{latin("name"), name}, {latin("arguments"), arguments.toString(latin("{}"))}}}};
        // Calls that follow an assistant message (or each other) belong to the same assistant turn.
        if (!messages.isEmpty()) {
            QJsonObject last = messages.last().toObject();
            if (last.value(QLatin1String("role")).toString() == QLatin1String("assistant")) {
                QJsonArray calls = last.value(QLatin1String("tool_calls")).toArray();
                calls.append(call);
                last.insert(latin("tool_calls"), calls);
                if (last.value(QLatin1String("content")).toString().isEmpty())
                    last.insert(latin("content"), QJsonValue::Null);
                messages.replace(messages.size() - 1, last);
                return std::nullopt;
            }
        }
        messages.append(QJsonObject{{latin("role"), latin("assistant")},
                                    {latin("content"), QJsonValue::Null},
                                    {latin("tool_calls"), QJsonArray{call}}});
        return std::nullopt;
    }

    Error addFunctionOutput(const QJsonObject &item, const QString &param)
    {
        const QString callId = item.value(QLatin1String("call_id")).toString();
        if (callId.isEmpty())
            return invalid(latin("'%1.call_id' is required.").arg(param), param + latin(".call_id"));
        if (!m_callIds.contains(callId))
            return invalid(latin("'%1': no function_call item with call_id '%2' comes before it (this proxy "
                                 "keeps no earlier responses: send the call in `input` too).")
                               .arg(param, callId),
                           param + latin(".call_id"));
        const QJsonValue output = item.value(QLatin1String("output"));
        QString text;
        if (output.isString()) {
            text = output.toString();
        } else if (output.isArray()) {
            for (const auto &part : output.toArray()) {
                const QJsonObject p = part.toObject();
                if (p.value(QLatin1String("text")).isString())
                    text += p.value(QLatin1String("text")).toString();
                else
                    qCWarning(lcResponses) << "dropped a non-text part of a function_call_output:"
                                           << p.value(QLatin1String("type")).toString();
            }
        } else {
            return invalid(latin("'%1.output' must be a string or an array of content parts.").arg(param),
                           param + latin(".output"));
        }
        messages.append(QJsonObject{
            {latin("role"), latin("tool")}, {latin("tool_call_id"), callId}, {latin("content"), text}});
        return std::nullopt;
    }
};

// Function tools in the chat shape; the others are dropped (a chat upstream cannot run them).
Error translateTools(const QJsonValue &value, QJsonArray *chatTools, QJsonArray *echoTools)
{
    if (absent(value))
        return std::nullopt;
    if (!value.isArray())
        return invalid(latin("'tools' must be an array."), latin("tools"));
    const QJsonArray tools = value.toArray();
    for (qsizetype i = 0; i < tools.size(); ++i) {
        const QString param = latin("tools[%1]").arg(i);
        if (!tools.at(i).isObject())
            return invalid(latin("'%1' must be an object.").arg(param), param);
        const QJsonObject tool = tools.at(i).toObject();
        const QString type = tool.value(QLatin1String("type")).toString();
        if (type != QLatin1String("function")) {
            qCWarning(lcResponses).noquote()
                << "dropped a tool of type" << (type.isEmpty() ? latin("(none)") : type)
                << "(only function tools reach a chat upstream)";
            continue;
        }
        const QJsonValue name = tool.value(QLatin1String("name"));
        if (!name.isString() || name.toString().isEmpty())
            return invalid(latin("'%1.name' is required.").arg(param), param + latin(".name"));
        QJsonObject function{{latin("name"), name}};
        for (const char *key : {"description", "parameters", "strict"}) {
            const QJsonValue v = tool.value(QLatin1String(key));
            if (!absent(v))
                function.insert(latin(key), v);
        }
        chatTools->append(QJsonObject{{latin("type"), latin("function")}, {latin("function"), function}});
        echoTools->append(tool);
    }
    return std::nullopt;
}

Error translateToolChoice(const QJsonValue &value, QJsonValue *out)
{
    if (value.isString()) {
        const QString choice = value.toString();
        if (choice != QLatin1String("auto") && choice != QLatin1String("none") &&
            choice != QLatin1String("required"))
            return invalid(latin("'tool_choice' must be auto, none, required or a function."),
                           latin("tool_choice"));
        *out = value;
        return std::nullopt;
    }
    const QJsonObject choice = value.toObject();
    const QString type = choice.value(QLatin1String("type")).toString();
    if (type == QLatin1String("function") && choice.value(QLatin1String("name")).isString()) {
        *out = QJsonObject{
            {latin("type"), latin("function")},
            {latin("function"), QJsonObject{{latin("name"), choice.value(QLatin1String("name"))}}}};
        return std::nullopt;
    }
    if (type == QLatin1String("allowed_tools")) {
        // The chat API has no allowed list: the mode remains.
        *out = choice.value(QLatin1String("mode")).toString(latin("auto"));
        return std::nullopt;
    }
    return invalid(latin("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"name\":…}; "
                         "hosted tools are not available here."),
                   latin("tool_choice"));
}

Error translateTextFormat(const QJsonValue &text, QJsonObject *body)
{
    if (absent(text))
        return std::nullopt;
    if (!text.isObject())
        return invalid(latin("'text' must be an object."), latin("text"));
    const QJsonValue formatValue = text.toObject().value(QLatin1String("format"));
    if (absent(formatValue))
        return std::nullopt;
    const QJsonObject format = formatValue.toObject();
    const QString type = format.value(QLatin1String("type")).toString();
    if (type == QLatin1String("text"))
        return std::nullopt;
    if (type == QLatin1String("json_object")) {
        body->insert(latin("response_format"), QJsonObject{{latin("type"), latin("json_object")}});
        return std::nullopt;
    }
    if (type == QLatin1String("json_schema")) {
        if (!format.value(QLatin1String("schema")).isObject())
            return invalid(latin("'text.format.schema' must be an object."), latin("text.format.schema"));
        QJsonObject schema{{latin("name"), format.value(QLatin1String("name")).toString(latin("response"))},
                           {latin("schema"), format.value(QLatin1String("schema"))}};
        for (const char *key : {"strict", "description"}) {
            if (!absent(format.value(QLatin1String(key))))
                schema.insert(latin(key), format.value(QLatin1String(key)));
        }
        body->insert(latin("response_format"),
                     QJsonObject{{latin("type"), latin("json_schema")}, {latin("json_schema"), schema}});
        return std::nullopt;
    }
    return invalid(latin("'text.format.type' must be text, json_object or json_schema."),
                   latin("text.format.type"));
}

Error checkNumber(const QJsonObject &body, const char *key)
{
    const QJsonValue v = body.value(QLatin1String(key));
    if (!absent(v) && !v.isDouble())
        return invalid(latin("'%1' must be a number.").arg(latin(key)), latin(key));
    return std::nullopt;
}

} // namespace

std::optional<ApiError> ResponsesRequest::parse(const QByteArray &json, ResponsesRequest *out)
{
    QJsonObject in;
    if (auto error = RequestBody::parseObject(json, QStringLiteral("a JSON Responses request"), &in))
        return error;

    const QJsonValue model = in.value(QLatin1String("model"));
    if (!absent(model) && !model.isString())
        return invalid(latin("'model' must be a string."), latin("model"));
    if (!absent(in.value(QLatin1String("previous_response_id"))))
        return invalid(latin("'previous_response_id' is not supported: this proxy stores no responses. Send "
                             "the whole conversation in `input` (with store: false)."),
                       latin("previous_response_id"));
    if (!absent(in.value(QLatin1String("conversation"))))
        return invalid(latin("'conversation' is not supported: this proxy stores no conversations. Send "
                             "the whole conversation in `input`."),
                       latin("conversation"));
    if (in.value(QLatin1String("background")).toBool(false))
        return invalid(latin("'background' is not supported: this proxy stores no responses."),
                       latin("background"));
    const QJsonValue stream = in.value(QLatin1String("stream"));
    if (!absent(stream) && !stream.isBool())
        return invalid(latin("'stream' must be a boolean."), latin("stream"));
    for (const char *key : {"temperature", "top_p", "max_output_tokens"}) {
        if (const auto error = checkNumber(in, key))
            return error;
    }
    const QJsonValue maxOutput = in.value(QLatin1String("max_output_tokens"));
    if (maxOutput.isDouble() &&
        (maxOutput.toDouble() < 1 || maxOutput.toDouble() != double(maxOutput.toInteger())))
        return invalid(latin("'max_output_tokens' must be a positive integer."), latin("max_output_tokens"));
    const QJsonValue instructions = in.value(QLatin1String("instructions"));
    if (!absent(instructions) && !instructions.isString())
        return invalid(latin("'instructions' must be a string."), latin("instructions"));

    MessageBuilder builder;
    if (!instructions.toString().isEmpty())
        builder.messages.append(
            QJsonObject{{latin("role"), latin("system")}, {latin("content"), instructions}});
    const QJsonValue input = in.value(QLatin1String("input"));
    if (input.isUndefined())
        return invalid(latin("Missing required parameter: 'input'."), latin("input"));
    if (input.isString()) {
        builder.messages.append(QJsonObject{{latin("role"), latin("user")}, {latin("content"), input}});
    } else if (input.isArray()) {
        const QJsonArray items = input.toArray();
        for (qsizetype i = 0; i < items.size(); ++i) {
            if (const auto error = builder.addItem(items.at(i), latin("input[%1]").arg(i)))
                return error;
        }
    } else {
        return invalid(latin("'input' must be a string or an array of input items."), latin("input"));
    }
    if (builder.messages.isEmpty())
        return invalid(latin("'input' has nothing to answer: no message or function output."),
                       latin("input"));

    QJsonObject body{{latin("messages"), builder.messages}};
    if (model.isString())
        body.insert(latin("model"), model);
    if (stream.toBool(false))
        body.insert(latin("stream"), true);

    QJsonArray chatTools;
    QJsonArray echoTools;
    if (const auto error = translateTools(in.value(QLatin1String("tools")), &chatTools, &echoTools))
        return error;
    QJsonValue toolChoice = latin("auto");
    const QJsonValue toolChoiceIn = in.value(QLatin1String("tool_choice"));
    if (!absent(toolChoiceIn)) {
        if (const auto error = translateToolChoice(toolChoiceIn, &toolChoice))
            return error;
    }
    const QJsonValue parallel = in.value(QLatin1String("parallel_tool_calls"));
    if (!absent(parallel) && !parallel.isBool())
        return invalid(latin("'parallel_tool_calls' must be a boolean."), latin("parallel_tool_calls"));
    // Without tools, tool settings mean nothing, and some providers refuse them.
    if (!chatTools.isEmpty()) {
        body.insert(latin("tools"), chatTools);
        if (!absent(toolChoiceIn))
            body.insert(latin("tool_choice"), toolChoice);
        if (parallel.isBool())
            body.insert(latin("parallel_tool_calls"), parallel);
    }
    if (const auto error = translateTextFormat(in.value(QLatin1String("text")), &body))
        return error;
    for (const char *key : {"temperature", "top_p"}) {
        if (in.value(QLatin1String(key)).isDouble())
            body.insert(latin(key), in.value(QLatin1String(key)));
    }
    if (in.value(QLatin1String("max_output_tokens")).isDouble())
        body.insert(latin("max_tokens"), in.value(QLatin1String("max_output_tokens")).toInteger());
    if (in.value(QLatin1String("user")).isString())
        body.insert(latin("user"), in.value(QLatin1String("user")));

    ResponsesRequest parsed;
    parsed.echo = QJsonObject{
        {latin("model"), model.toString()},
        {latin("instructions"), absent(instructions) ? QJsonValue(QJsonValue::Null) : instructions},
        {latin("tools"), echoTools},
        {latin("tool_choice"), absent(toolChoiceIn) ? QJsonValue(latin("auto")) : toolChoiceIn},
        {latin("parallel_tool_calls"), parallel.toBool(true)},
        {latin("temperature"), in.value(QLatin1String("temperature")).toDouble(1.0)},
        {latin("top_p"), in.value(QLatin1String("top_p")).toDouble(1.0)},
        {latin("max_output_tokens"), in.value(QLatin1String("max_output_tokens")).isDouble()
                                         ? in.value(QLatin1String("max_output_tokens"))
                                         : QJsonValue(QJsonValue::Null)},
        {latin("text"),
         in.value(QLatin1String("text")).isObject()
             ? in.value(QLatin1String("text"))
             : QJsonValue(QJsonObject{{latin("format"), QJsonObject{{latin("type"), latin("text")}}}})},
        {latin("metadata"), in.value(QLatin1String("metadata")).isObject()
                                ? in.value(QLatin1String("metadata"))
                                : QJsonValue(QJsonObject{})}};
    parsed.request = EngineRequest::chat(std::move(body), EngineRequest::Protocol::Responses);
    *out = std::move(parsed);
    return std::nullopt;
}
