#include "enginerequest.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {

// Characters of a message's content: a string, or the text parts of a multimodal array.
qint64 contentCharacters(const QJsonValue &content)
{
    if (content.isString())
        return content.toString().size();
    qint64 n = 0;
    if (content.isArray()) {
        for (const auto &part : content.toArray())
            n += part.toObject().value(QLatin1String("text")).toString().size();
    }
    return n;
}

qint64 compactSize(const QJsonValue &value)
{
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact).size();
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact).size();
    return 0;
}

struct ProtocolName
{
    EngineRequest::Protocol protocol;
    const char *name;
};

constexpr ProtocolName kProtocolNames[] = {
    {EngineRequest::Protocol::Chat, "chat"},
    {EngineRequest::Protocol::Messages, "messages"},
    {EngineRequest::Protocol::Responses, "responses"},
    {EngineRequest::Protocol::Embeddings, "embeddings"},
};

} // namespace

EngineRequest EngineRequest::chat(QJsonObject body, Protocol protocol)
{
    EngineRequest request;
    request.operation = Operation::Chat;
    request.protocol = protocol;
    request.model = body.value(QLatin1String("model")).toString();
    request.stream = body.value(QLatin1String("stream")).toBool(false);
    request.estimatedPromptTokens = estimatePromptTokens(body);
    request.body = std::move(body);
    return request;
}

EngineRequest EngineRequest::embeddings(QJsonObject body)
{
    EngineRequest request;
    request.operation = Operation::Embeddings;
    request.protocol = Protocol::Embeddings;
    request.model = body.value(QLatin1String("model")).toString();
    request.estimatedPromptTokens = estimatePromptTokens(body);
    request.body = std::move(body);
    return request;
}

qint64 EngineRequest::estimatePromptTokens(const QJsonObject &body)
{
    qint64 chars = 0;
    for (const auto &m : body.value(QLatin1String("messages")).toArray()) {
        const QJsonObject message = m.toObject();
        chars += contentCharacters(message.value(QLatin1String("content")));
        chars += compactSize(message.value(QLatin1String("tool_calls")));
    }
    chars += compactSize(body.value(QLatin1String("tools")));
    const QJsonValue input = body.value(QLatin1String("input"));
    if (input.isString()) {
        chars += input.toString().size();
    } else if (input.isArray()) {
        for (const auto &item : input.toArray()) {
            if (item.isString())
                chars += item.toString().size();
            else if (item.isArray()) // token arrays: each number is a token
                chars += item.toArray().size() * 4;
            else if (item.isDouble())
                chars += 4;
        }
    }
    return estimateTokens(chars);
}

QString EngineRequest::protocolName(Protocol protocol)
{
    for (const auto &p : kProtocolNames) {
        if (p.protocol == protocol)
            return QLatin1String(p.name);
    }
    return QString();
}

bool EngineRequest::protocolFromName(const QString &name, Protocol *protocol)
{
    for (const auto &p : kProtocolNames) {
        if (name == QLatin1String(p.name)) {
            *protocol = p.protocol;
            return true;
        }
    }
    return false;
}
