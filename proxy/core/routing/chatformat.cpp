#include "chatformat.h"

#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

QJsonObject objectOf(QByteArrayView json)
{
    return QJsonDocument::fromJson(json.toByteArray()).object();
}

QString reasoningOf(const QJsonObject &part)
{
    const QString reasoning = part.value(QLatin1String("reasoning_content")).toString();
    return reasoning.isEmpty() ? part.value(QLatin1String("reasoning")).toString() : reasoning;
}

QJsonObject firstChoice(const QJsonObject &obj)
{
    return obj.value(QLatin1String("choices")).toArray().at(0).toObject();
}

// Content is a string, or (some providers, whole answers) an array of text parts.
QString textOf(const QJsonValue &content)
{
    if (!content.isArray())
        return content.toString();
    QString text;
    for (const auto &part : content.toArray())
        text += part.toObject().value(QLatin1String("text")).toString();
    return text;
}

} // namespace

ChatDelta ChatDelta::parse(QByteArrayView json)
{
    ChatDelta delta;
    const QJsonObject obj = objectOf(json);
    delta.id = obj.value(QLatin1String("id")).toString();
    delta.model = obj.value(QLatin1String("model")).toString();
    delta.created = obj.value(QLatin1String("created")).toInteger();
    delta.usage = StreamChunk::usageOf(obj);
    const QJsonObject choice = firstChoice(obj);
    const QJsonObject d = choice.value(QLatin1String("delta")).toObject();
    delta.role = d.value(QLatin1String("role")).toString();
    delta.text = textOf(d.value(QLatin1String("content")));
    delta.reasoning = reasoningOf(d);
    const QJsonArray calls = d.value(QLatin1String("tool_calls")).toArray();
    for (qsizetype i = 0; i < calls.size(); ++i) {
        const QJsonObject call = calls.at(i).toObject();
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        ToolCallDelta piece;
        // Some providers leave out the index of a lone call.
        piece.index = call.value(QLatin1String("index")).toInt(int(i));
        piece.id = call.value(QLatin1String("id")).toString();
        piece.name = function.value(QLatin1String("name")).toString();
        piece.arguments = function.value(QLatin1String("arguments")).toString();
        delta.toolCalls.append(piece);
    }
    const QJsonObject legacy = d.value(QLatin1String("function_call")).toObject();
    if (!legacy.isEmpty()) {
        ToolCallDelta piece;
        piece.name = legacy.value(QLatin1String("name")).toString();
        piece.arguments = legacy.value(QLatin1String("arguments")).toString();
        delta.toolCalls.append(piece);
    }
    delta.finishReason = choice.value(QLatin1String("finish_reason")).toString();
    return delta;
}

ChatAnswer ChatAnswer::parse(QByteArrayView json)
{
    ChatAnswer answer;
    const QJsonObject obj = objectOf(json);
    answer.id = obj.value(QLatin1String("id")).toString();
    answer.model = obj.value(QLatin1String("model")).toString();
    answer.created = obj.value(QLatin1String("created")).toInteger();
    answer.usage = StreamChunk::usageOf(obj);
    const QJsonObject choice = firstChoice(obj);
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();
    answer.text = textOf(message.value(QLatin1String("content")));
    answer.reasoning = reasoningOf(message);
    for (const auto &c : message.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = c.toObject();
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        answer.toolCalls.append({call.value(QLatin1String("id")).toString(),
                                 function.value(QLatin1String("name")).toString(),
                                 function.value(QLatin1String("arguments")).toString()});
    }
    const QJsonObject legacy = message.value(QLatin1String("function_call")).toObject();
    if (!legacy.isEmpty())
        answer.toolCalls.append({QString(), legacy.value(QLatin1String("name")).toString(),
                                 legacy.value(QLatin1String("arguments")).toString()});
    answer.finishReason = choice.value(QLatin1String("finish_reason")).toString();
    return answer;
}
