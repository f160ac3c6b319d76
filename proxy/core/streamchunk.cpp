#include "streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace StreamChunk {

namespace {
const QLatin1String kChoices("choices");
const QLatin1String kDelta("delta");
const QLatin1String kMessage("message");
const QLatin1String kContent("content");
const QLatin1String kReasoningContent("reasoning_content");

bool nonEmptyString(const QJsonValue &v)
{
    return v.isString() && !v.toString().isEmpty();
}

QString messageOf(const QJsonValue &error)
{
    if (error.isString())
        return error.toString();
    const QJsonObject e = error.toObject();
    QString msg = e.value(QLatin1String("message")).toString();
    const QString raw = e.value(QLatin1String("metadata")).toObject().value(QLatin1String("raw")).toString();
    if (!raw.isEmpty())
        msg += QLatin1String(" (") + raw + QLatin1Char(')');
    return msg;
}
} // namespace

std::optional<TokenUsage> usageOf(const QJsonObject &obj)
{
    QJsonObject usage = obj.value(QLatin1String("usage")).toObject();
    if (usage.isEmpty())
        usage = obj.value(QLatin1String("x_groq")).toObject().value(QLatin1String("usage")).toObject();
    if (usage.isEmpty())
        return std::nullopt;
    TokenUsage u;
    u.prompt = usage.value(QLatin1String("prompt_tokens")).toInteger();
    u.completion = usage.value(QLatin1String("completion_tokens")).toInteger();
    u.total = usage.value(QLatin1String("total_tokens")).toInteger(u.prompt + u.completion);
    return u;
}

Info inspect(QByteArrayView data, bool normalize)
{
    Info info;
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(data.toByteArray(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return info;
    info.isJson = true;
    QJsonObject obj = doc.object();
    const QJsonValue error = obj.value(QLatin1String("error"));
    if (!error.isUndefined() && !error.isNull()) {
        info.hasError = true;
        info.errorMessage = messageOf(error);
    }
    const QJsonArray choices = obj.value(kChoices).toArray();
    for (const auto &c : choices) {
        const QJsonObject choice = c.toObject();
        const QJsonObject delta = choice.value(kDelta).toObject();
        if (nonEmptyString(delta.value(kContent)) || nonEmptyString(delta.value(kReasoningContent)) ||
            nonEmptyString(delta.value(QLatin1String("reasoning"))) ||
            delta.contains(QLatin1String("tool_calls")) || delta.contains(QLatin1String("function_call")))
            info.hasContent = true;
        const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
        if (finish.isString()) {
            if (finish.toString() == QLatin1String("error")) {
                info.hasError = true;
                if (info.errorMessage.isEmpty())
                    info.errorMessage = QStringLiteral("finish_reason \"error\"");
            } else {
                info.finished = true;
            }
        }
    }
    info.usage = usageOf(obj);
    info.usageOnly = info.usage && obj.value(kChoices).isArray() && choices.isEmpty();
    if (normalize && normalizeReasoning(obj))
        info.rewritten = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    return info;
}

namespace {

// Calls fn(quoted, characters) for each string value of a "content" key in a chunk: `quoted` is the JSON
// string as written (quotes included), `characters` how many characters it decodes to. A scan, not a parse.
template<typename Fn> void forEachContentString(QByteArrayView data, Fn fn)
{
    static const QByteArrayView key("\"content\"");
    qsizetype pos = 0;
    while ((pos = data.indexOf(key, pos)) >= 0) {
        pos += key.size();
        while (pos < data.size() && (data.at(pos) == ' ' || data.at(pos) == ':'))
            ++pos;
        if (pos >= data.size() || data.at(pos) != '"')
            continue; // null or not a string
        const qsizetype open = pos++;
        qint64 chars = 0;
        while (pos < data.size()) {
            const char c = data.at(pos);
            if (c == '"')
                break;
            if (c == '\\') { // an escape sequence is one character
                pos += (pos + 1 < data.size() && data.at(pos + 1) == 'u') ? 6 : 2;
                ++chars;
                continue;
            }
            if ((uchar(c) & 0xC0) != 0x80) // UTF-8 continuation bytes are part of the character before
                ++chars;
            ++pos;
        }
        fn(data.sliced(open, qMin(pos + 1, data.size()) - open), chars);
    }
}

} // namespace

qint64 contentCharacters(QByteArrayView data)
{
    qint64 chars = 0;
    forEachContentString(data, [&chars](QByteArrayView, qint64 n) { chars += n; });
    return chars;
}

void appendContentStrings(QByteArrayView data, QByteArray *strings)
{
    forEachContentString(data, [strings](QByteArrayView quoted, qint64) {
        strings->append(quoted.data(), quoted.size());
        strings->append(',');
    });
}

QString decodeContentStrings(const QByteArray &strings)
{
    // The strings decoded by the JSON parser, in one pass: escapes and surrogate pairs as JSON means them.
    QString text;
    const QJsonArray list =
        QJsonDocument::fromJson("[" + strings.chopped(strings.endsWith(',') ? 1 : 0) + "]").array();
    for (const auto &v : list)
        text += v.toString();
    return text;
}

QString errorMessage(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    QJsonObject obj = doc.object();
    if (doc.isArray()) // Gemini's OpenAI endpoint wraps errors in an array
        obj = doc.array().first().toObject();
    QString msg;
    if (obj.contains(QLatin1String("error")))
        msg = messageOf(obj.value(QLatin1String("error")));
    else if (obj.contains(QLatin1String("message")))
        msg = obj.value(QLatin1String("message")).toString(); // Cerebras, Mistral: flat bodies
    if (msg.isEmpty())
        msg = QString::fromUtf8(body.left(200)).simplified();
    if (msg.isEmpty())
        msg = QStringLiteral("(empty body)");
    if (msg.size() > 300)
        msg = msg.left(300) + QLatin1String("…");
    return msg;
}

bool normalizeReasoning(QJsonObject &obj)
{
    QJsonArray choices = obj.value(kChoices).toArray();
    bool changed = false;
    for (qsizetype i = 0; i < choices.size(); ++i) {
        QJsonObject choice = choices.at(i).toObject();
        for (const QLatin1String part : {kMessage, kDelta}) {
            QJsonObject m = choice.value(part).toObject();
            const QJsonValue reasoning = m.value(kReasoningContent);
            const QJsonValue content = m.value(kContent);
            if (nonEmptyString(reasoning) && !nonEmptyString(content)) {
                m.insert(kContent, reasoning);
                m.remove(kReasoningContent);
                choice.insert(part, m);
                changed = true;
            }
        }
        choices.replace(i, choice);
    }
    if (changed)
        obj.insert(kChoices, choices);
    return changed;
}

} // namespace StreamChunk
