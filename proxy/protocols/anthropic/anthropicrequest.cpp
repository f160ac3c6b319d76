#include "anthropicrequest.h"

#include "requestbody.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAnthropic, "chain.protocols.anthropic")

namespace {

using Error = std::optional<ApiError>;

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

ApiError bad(const QString &field, const QString &message)
{
    return ApiError::invalidRequest(field + QLatin1String(": ") + message, field);
}

QString typeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return latin("null");
    case QJsonValue::Bool:
        return latin("a boolean");
    case QJsonValue::Double:
        return latin("a number");
    case QJsonValue::String:
        return latin("a string");
    case QJsonValue::Array:
        return latin("an array");
    case QJsonValue::Object:
        return latin("an object");
    case QJsonValue::Undefined:
        break;
    }
    return latin("missing");
}

bool absent(const QJsonValue &value)
{
    return value.isUndefined() || value.isNull();
}

// The text of a text block, checked.
Error blockText(const QJsonObject &block, const QString &field, QString *text)
{
    const QJsonValue value = block.value(QLatin1String("text"));
    if (!value.isString())
        return bad(field + QLatin1String(".text"),
                   QStringLiteral("must be a string, not %1.").arg(typeName(value)));
    *text = value.toString();
    return std::nullopt;
}

// An image block → an OpenAI image_url part.
Error imagePart(const QJsonObject &block, const QString &field, QJsonObject *part)
{
    const QJsonValue sourceValue = block.value(QLatin1String("source"));
    if (!sourceValue.isObject())
        return bad(field + QLatin1String(".source"), QStringLiteral("must be an object."));
    const QJsonObject source = sourceValue.toObject();
    const QString type = source.value(QLatin1String("type")).toString();
    QString url;
    if (type == QLatin1String("base64")) {
        const QString mediaType = source.value(QLatin1String("media_type")).toString();
        const QString data = source.value(QLatin1String("data")).toString();
        if (mediaType.isEmpty())
            return bad(field + QLatin1String(".source.media_type"),
                       QStringLiteral("is required (e.g. image/png)."));
        if (data.isEmpty())
            return bad(field + QLatin1String(".source.data"),
                       QStringLiteral("is required: the image, base64."));
        url = QLatin1String("data:") + mediaType + QLatin1String(";base64,") + data;
    } else if (type == QLatin1String("url")) {
        url = source.value(QLatin1String("url")).toString();
        if (url.isEmpty())
            return bad(field + QLatin1String(".source.url"), QStringLiteral("is required."));
    } else {
        return bad(field + QLatin1String(".source.type"),
                   QStringLiteral("'%1' is not supported here; use 'base64' or 'url'.").arg(type));
    }
    *part = QJsonObject{{latin("type"), latin("image_url")},
                        {latin("image_url"), QJsonObject{{latin("url"), url}}}};
    return std::nullopt;
}

// A string or an array of text blocks (system, a system message, a tool result's text) → one text.
Error textOf(const QJsonValue &value, const QString &field, QString *text,
             QList<QJsonObject> *images = nullptr)
{
    if (value.isString()) {
        *text = value.toString();
        return std::nullopt;
    }
    if (!value.isArray())
        return bad(
            field,
            QStringLiteral("must be a string or an array of content blocks, not %1.").arg(typeName(value)));
    QStringList texts;
    const QJsonArray blocks = value.toArray();
    for (qsizetype i = 0; i < blocks.size(); ++i) {
        const QString blockField = field + QLatin1Char('.') + QString::number(i);
        if (!blocks.at(i).isObject())
            return bad(blockField, QStringLiteral("must be an object."));
        const QJsonObject block = blocks.at(i).toObject();
        const QString type = block.value(QLatin1String("type")).toString();
        if (type == QLatin1String("text")) {
            QString t;
            if (auto error = blockText(block, blockField, &t))
                return error;
            texts << t;
        } else if (type == QLatin1String("image") && images) {
            QJsonObject part;
            if (auto error = imagePart(block, blockField, &part))
                return error;
            images->append(part);
        } else {
            return bad(blockField + QLatin1String(".type"),
                       QStringLiteral("'%1' is not allowed here; expected %2.")
                           .arg(type, images ? latin("'text' or 'image'") : latin("'text'")));
        }
    }
    *text = texts.join(QLatin1String("\n\n"));
    return std::nullopt;
}

class Translator
{
public:
    QJsonArray messages;

    Error system(const QJsonValue &value)
    {
        if (absent(value))
            return std::nullopt;
        QString text;
        if (auto error = textOf(value, latin("system"), &text))
            return error;
        if (!text.isEmpty())
            messages.append(QJsonObject{{latin("role"), latin("system")}, {latin("content"), text}});
        return std::nullopt;
    }

    Error message(const QJsonValue &value, const QString &field)
    {
        if (!value.isObject())
            return bad(field, QStringLiteral("must be an object, not %1.").arg(typeName(value)));
        const QJsonObject message = value.toObject();
        const QString role = message.value(QLatin1String("role")).toString();
        const QJsonValue content = message.value(QLatin1String("content"));
        const QString contentField = field + QLatin1String(".content");
        if (absent(content))
            return bad(contentField, QStringLiteral("is required."));
        if (role == QLatin1String("system")) // Claude Code puts one inside messages
            return system(content);
        if (role == QLatin1String("user"))
            return user(content, contentField);
        if (role == QLatin1String("assistant"))
            return assistant(content, contentField);
        return bad(field + QLatin1String(".role"),
                   QStringLiteral("must be 'user' or 'assistant', not '%1'.")
                       .arg(message.value(QLatin1String("role")).toVariant().toString()));
    }

private:
    Error user(const QJsonValue &content, const QString &field)
    {
        if (content.isString()) {
            messages.append(QJsonObject{{latin("role"), latin("user")}, {latin("content"), content}});
            return std::nullopt;
        }
        if (!content.isArray())
            return bad(field, QStringLiteral("must be a string or an array of content blocks, not %1.")
                                  .arg(typeName(content)));
        QJsonArray parts;
        QList<QJsonObject> resultImages;
        const QJsonArray blocks = content.toArray();
        for (qsizetype i = 0; i < blocks.size(); ++i) {
            const QString blockField = field + QLatin1Char('.') + QString::number(i);
            if (!blocks.at(i).isObject())
                return bad(blockField, QStringLiteral("must be an object."));
            const QJsonObject block = blocks.at(i).toObject();
            const QString type = block.value(QLatin1String("type")).toString();
            if (type == QLatin1String("text")) {
                QString text;
                if (auto error = blockText(block, blockField, &text))
                    return error;
                parts.append(QJsonObject{{latin("type"), latin("text")}, {latin("text"), text}});
            } else if (type == QLatin1String("image")) {
                QJsonObject part;
                if (auto error = imagePart(block, blockField, &part))
                    return error;
                parts.append(part);
            } else if (type == QLatin1String("tool_result")) {
                if (auto error = toolResult(block, blockField, &resultImages))
                    return error;
            } else if (type == QLatin1String("thinking") || type == QLatin1String("redacted_thinking")) {
                continue;
            } else {
                return unknownBlock(type, blockField);
            }
        }
        // A tool message carries text only: a result's images come next, before the user's own blocks.
        QJsonArray all;
        for (const QJsonObject &image : std::as_const(resultImages))
            all.append(image);
        for (const auto &part : std::as_const(parts))
            all.append(part);
        if (!all.isEmpty())
            messages.append(QJsonObject{{latin("role"), latin("user")}, {latin("content"), simplified(all)}});
        return std::nullopt;
    }

    Error toolResult(const QJsonObject &block, const QString &field, QList<QJsonObject> *images)
    {
        const QJsonValue id = block.value(QLatin1String("tool_use_id"));
        if (!id.isString() || id.toString().isEmpty())
            return bad(field + QLatin1String(".tool_use_id"),
                       QStringLiteral("is required and must be a string."));
        QString text;
        const QJsonValue content = block.value(QLatin1String("content"));
        if (!absent(content)) {
            if (auto error = textOf(content, field + QLatin1String(".content"), &text, images))
                return error;
        }
        if (block.value(QLatin1String("is_error")).toBool(false))
            text = QLatin1String("Error: ") + text;
        messages.append(QJsonObject{{latin("role"), latin("tool")},
                                    {latin("tool_call_id"), id.toString()},
                                    {latin("content"), text}});
        return std::nullopt;
    }

    Error assistant(const QJsonValue &content, const QString &field)
    {
        if (content.isString()) {
            messages.append(QJsonObject{{latin("role"), latin("assistant")}, {latin("content"), content}});
            return std::nullopt;
        }
        if (!content.isArray())
            return bad(field, QStringLiteral("must be a string or an array of content blocks, not %1.")
                                  .arg(typeName(content)));
        QStringList texts;
        QJsonArray toolCalls;
        const QJsonArray blocks = content.toArray();
        for (qsizetype i = 0; i < blocks.size(); ++i) {
            const QString blockField = field + QLatin1Char('.') + QString::number(i);
            if (!blocks.at(i).isObject())
                return bad(blockField, QStringLiteral("must be an object."));
            const QJsonObject block = blocks.at(i).toObject();
            const QString type = block.value(QLatin1String("type")).toString();
            if (type == QLatin1String("text")) {
                QString text;
                if (auto error = blockText(block, blockField, &text))
                    return error;
                texts << text;
            } else if (type == QLatin1String("tool_use")) {
                const QJsonValue id = block.value(QLatin1String("id"));
                const QJsonValue name = block.value(QLatin1String("name"));
                const QJsonValue input = block.value(QLatin1String("input"));
                if (!id.isString() || id.toString().isEmpty())
                    return bad(blockField + QLatin1String(".id"),
                               QStringLiteral("is required and must be a string."));
                if (!name.isString() || name.toString().isEmpty())
                    return bad(blockField + QLatin1String(".name"),
                               QStringLiteral("is required and must be a string."));
                if (!absent(input) && !input.isObject())
                    return bad(blockField + QLatin1String(".input"), QStringLiteral("must be an object."));
                const QByteArray arguments = QJsonDocument(input.toObject()).toJson(QJsonDocument::Compact);
                toolCalls.append(QJsonObject{
                    {latin("id"), id},
                    {latin("type"), latin("function")},
                    {latin("function"), QJsonObject{{latin("name"), name},
                                                    {latin("arguments"), QString::fromUtf8(arguments)}}}});
            } else if (type == QLatin1String("thinking") || type == QLatin1String("redacted_thinking")) {
                continue;
            } else {
                return unknownBlock(type, blockField);
            }
        }
        const QString text = texts.join(QString());
        if (text.isEmpty() && toolCalls.isEmpty())
            return std::nullopt; // only thinking blocks: nothing a provider could read (many refuse it empty)
        QJsonObject message{{latin("role"), latin("assistant")}};
        message.insert(latin("content"), text.isEmpty() && !toolCalls.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                                : QJsonValue(text));
        if (!toolCalls.isEmpty())
            message.insert(latin("tool_calls"), toolCalls);
        messages.append(message);
        return std::nullopt;
    }

    static ApiError unknownBlock(const QString &type, const QString &field)
    {
        if (type.isEmpty())
            return bad(field + QLatin1String(".type"), QStringLiteral("is required."));
        return bad(
            field + QLatin1String(".type"),
            QStringLiteral("content blocks of type '%1' are not supported by this proxy (its providers "
                           "speak OpenAI chat completions); supported: text, image, tool_use, "
                           "tool_result, thinking (dropped).")
                .arg(type));
    }

    // Text-only content as a plain string: what every chat upstream takes.
    static QJsonValue simplified(const QJsonArray &parts)
    {
        QString text;
        for (const auto &part : parts) {
            const QJsonObject p = part.toObject();
            if (p.value(QLatin1String("type")).toString() != QLatin1String("text"))
                return parts;
            if (!text.isEmpty())
                text += QLatin1String("\n\n");
            text += p.value(QLatin1String("text")).toString();
        }
        return text;
    }
};

Error translateTools(const QJsonValue &value, QJsonArray *tools, QStringList *dropped)
{
    if (absent(value))
        return std::nullopt;
    if (!value.isArray())
        return bad(latin("tools"), QStringLiteral("must be an array, not %1.").arg(typeName(value)));
    const QJsonArray list = value.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString field = latin("tools.") + QString::number(i);
        if (!list.at(i).isObject())
            return bad(field, QStringLiteral("must be an object."));
        const QJsonObject tool = list.at(i).toObject();
        const QString type = tool.value(QLatin1String("type")).toString();
        const QString name = tool.value(QLatin1String("name")).toString();
        if (!type.isEmpty() && type != QLatin1String("custom")) {
            // A server tool (web_search_20250305, code_execution_…, bash_…, text_editor_…, computer_…):
            // Anthropic runs these itself; a chat-completions upstream cannot.
            const QString label =
                name.isEmpty() ? type : name + QLatin1String(" (") + type + QLatin1Char(')');
            qCWarning(lcAnthropic).noquote()
                << "dropping Anthropic server tool" << label << "- the providers cannot run it";
            dropped->append(label);
            continue;
        }
        if (name.isEmpty())
            return bad(field + QLatin1String(".name"), QStringLiteral("is required and must be a string."));
        const QJsonValue schema = tool.value(QLatin1String("input_schema"));
        if (!schema.isObject())
            return bad(field + QLatin1String(".input_schema"),
                       QStringLiteral("is required and must be an object."));
        QJsonObject function{{latin("name"), name}, {latin("parameters"), schema}};
        const QJsonValue description = tool.value(QLatin1String("description"));
        if (description.isString())
            function.insert(latin("description"), description);
        tools->append(QJsonObject{{latin("type"), latin("function")}, {latin("function"), function}});
    }
    return std::nullopt;
}

Error translateToolChoice(const QJsonValue &value, bool haveTools, QJsonObject *body)
{
    if (absent(value))
        return std::nullopt;
    if (!value.isObject())
        return bad(latin("tool_choice"), QStringLiteral("must be an object such as {\"type\": \"auto\"}."));
    const QJsonObject choice = value.toObject();
    const QString type = choice.value(QLatin1String("type")).toString();
    QJsonValue translated;
    if (type == QLatin1String("auto")) {
        translated = latin("auto");
    } else if (type == QLatin1String("any")) {
        translated = latin("required");
    } else if (type == QLatin1String("none")) {
        translated = latin("none");
    } else if (type == QLatin1String("tool")) {
        const QString name = choice.value(QLatin1String("name")).toString();
        if (name.isEmpty())
            return bad(latin("tool_choice.name"), QStringLiteral("is required when type is 'tool'."));
        translated = QJsonObject{{latin("type"), latin("function")},
                                 {latin("function"), QJsonObject{{latin("name"), name}}}};
    } else {
        return bad(latin("tool_choice.type"),
                   QStringLiteral("must be 'auto', 'any', 'tool' or 'none', not '%1'.").arg(type));
    }
    if (!haveTools) // a tool_choice without tools is refused by OpenAI-style upstreams
        return std::nullopt;
    body->insert(latin("tool_choice"), translated);
    if (choice.value(QLatin1String("disable_parallel_tool_use")).toBool(false))
        body->insert(latin("parallel_tool_calls"), false);
    return std::nullopt;
}

Error copyNumber(const QJsonObject &from, const char *name, QJsonObject *to)
{
    const QJsonValue value = from.value(QLatin1String(name));
    if (absent(value))
        return std::nullopt;
    if (!value.isDouble())
        return bad(latin(name), QStringLiteral("must be a number, not %1.").arg(typeName(value)));
    to->insert(latin(name), value);
    return std::nullopt;
}

} // namespace

std::optional<ApiError> AnthropicRequest::parse(const QByteArray &json, AnthropicRequest *out,
                                                Purpose purpose)
{
    QJsonObject in;
    if (auto error = RequestBody::parseObject(json, QStringLiteral("a JSON Messages request"), &in))
        return error;

    AnthropicRequest parsed;
    const QJsonValue model = in.value(QLatin1String("model"));
    if (!model.isString() || model.toString().isEmpty())
        return bad(latin("model"), model.isUndefined() ? QStringLiteral("Field required.")
                                                       : QStringLiteral("must be a non-empty string."));
    parsed.clientModel = model.toString();
    QJsonObject body{{latin("model"), parsed.clientModel}};

    const QJsonValue maxTokens = in.value(QLatin1String("max_tokens"));
    if (absent(maxTokens)) {
        if (purpose == Purpose::Messages)
            return bad(latin("max_tokens"), QStringLiteral("Field required."));
    } else {
        const double n = maxTokens.toDouble(-1);
        if (!maxTokens.isDouble() || n < 1 || n != qint64(n))
            return bad(latin("max_tokens"), QStringLiteral("must be a positive integer."));
        if (purpose == Purpose::Messages)
            body.insert(latin("max_tokens"), qint64(n));
    }

    Translator translator;
    if (auto error = translator.system(in.value(QLatin1String("system"))))
        return error;
    const QJsonValue messages = in.value(QLatin1String("messages"));
    if (messages.isUndefined())
        return bad(latin("messages"), QStringLiteral("Field required."));
    if (!messages.isArray())
        return bad(latin("messages"), QStringLiteral("must be an array, not %1.").arg(typeName(messages)));
    const QJsonArray list = messages.toArray();
    if (list.isEmpty())
        return bad(latin("messages"), QStringLiteral("at least one message is required."));
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (auto error = translator.message(list.at(i), latin("messages.") + QString::number(i)))
            return error;
    }
    body.insert(latin("messages"), translator.messages);

    QJsonArray tools;
    if (auto error = translateTools(in.value(QLatin1String("tools")), &tools, &parsed.droppedTools))
        return error;
    if (!tools.isEmpty())
        body.insert(latin("tools"), tools);
    if (auto error = translateToolChoice(in.value(QLatin1String("tool_choice")), !tools.isEmpty(), &body))
        return error;

    if (purpose == Purpose::Messages) {
        if (auto error = copyNumber(in, "temperature", &body))
            return error;
        if (auto error = copyNumber(in, "top_p", &body))
            return error;
        const QJsonValue stop = in.value(QLatin1String("stop_sequences"));
        if (!absent(stop)) {
            if (!stop.isArray())
                return bad(latin("stop_sequences"), QStringLiteral("must be an array of strings."));
            QJsonArray sequences;
            for (const auto &s : stop.toArray()) {
                if (!s.isString())
                    return bad(latin("stop_sequences"), QStringLiteral("must be an array of strings."));
                sequences.append(s);
                parsed.stopSequences << s.toString();
            }
            if (!sequences.isEmpty())
                body.insert(latin("stop"), sequences);
        }
        const QJsonValue stream = in.value(QLatin1String("stream"));
        if (!absent(stream) && !stream.isBool())
            return bad(latin("stream"), QStringLiteral("must be a boolean."));
        if (stream.toBool(false))
            body.insert(latin("stream"), true);
    }

    parsed.request = EngineRequest::chat(body, EngineRequest::Protocol::Messages);
    *out = std::move(parsed);
    return std::nullopt;
}
