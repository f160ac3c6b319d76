#include "providerkind.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>

#include <utility>

namespace {

struct KindInfo
{
    const char *type;
    const char *label; // translated in the "ProviderKind" context
    const char *baseUrl;
    // The most output tokens a free tier of this type reliably gives in one answer (0: no clamp). Coding
    // agents ask for 32k-64k; above this the provider refuses (Groq, Cerebras: 400), charges the window for
    // it (Cerebras reserves prompt + max_tokens) or asks for credits (OpenRouter: 402).
    int maxOutputTokens;
};

constexpr KindInfo kKinds[] = {
    {"openrouter", QT_TRANSLATE_NOOP("ProviderKind", "OpenRouter"), "https://openrouter.ai/api/v1", 8192},
    {"groq", QT_TRANSLATE_NOOP("ProviderKind", "Groq"), "https://api.groq.com/openai/v1", 8192},
    {"cerebras", QT_TRANSLATE_NOOP("ProviderKind", "Cerebras"), "https://api.cerebras.ai/v1", 8192},
    {"openai", QT_TRANSLATE_NOOP("ProviderKind", "OpenAI"), "https://api.openai.com/v1", 16384},
    {"google-ai", QT_TRANSLATE_NOOP("ProviderKind", "Google AI (Gemini)"),
     "https://generativelanguage.googleapis.com/v1beta/openai", 8192},
    {"mistral", QT_TRANSLATE_NOOP("ProviderKind", "Mistral"), "https://api.mistral.ai/v1", 8192},
    {"nvidia-nim", QT_TRANSLATE_NOOP("ProviderKind", "NVIDIA NIM"), "https://integrate.api.nvidia.com/v1",
     4096},
    {"generic-openai", QT_TRANSLATE_NOOP("ProviderKind", "Any OpenAI-compatible server"), "", 0},
};

// JSON Schema keywords Gemini's function declarations refuse ("Unknown name … Cannot find field").
constexpr const char *kGeminiSchemaDrops[] = {
    "additionalProperties",
    "propertyNames",
    "patternProperties",
    "unevaluatedProperties",
    "dependentSchemas",
    "dependentRequired",
    "$id",
    "$comment",
    "$anchor",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
};

// Cleans one JSON schema (a tool's parameters) for `type`, recursively through the places a schema holds
// schemas; property names are never touched.
QJsonObject cleanSchema(QJsonObject schema, bool gemini)
{
    schema.remove(
        QLatin1String("$schema")); // draft markers: refused by several providers, meaningless to all
    if (gemini) {
        for (const char *key : kGeminiSchemaDrops)
            schema.remove(QLatin1String(key));
        if (schema.contains(QLatin1String("const"))) { // no const: a one-value enum says the same
            schema.insert(QLatin1String("enum"), QJsonArray{schema.value(QLatin1String("const"))});
            schema.remove(QLatin1String("const"));
        }
        constexpr std::pair<const char *, const char *> kBounds[] = {{"exclusiveMinimum", "minimum"},
                                                                     {"exclusiveMaximum", "maximum"}};
        for (const auto &[exclusive, inclusive] : kBounds) {
            const QJsonValue v = schema.value(QLatin1String(exclusive));
            if (v.isDouble()) // draft 2020-12's number form; the closest Gemini takes is the inclusive bound
                schema.insert(QLatin1String(inclusive), v);
            schema.remove(QLatin1String(exclusive));
        }
    }
    const auto cleanValue = [gemini](const QJsonValue &v) -> QJsonValue {
        if (v.isObject())
            return cleanSchema(v.toObject(), gemini);
        if (v.isArray()) {
            QJsonArray out;
            for (const auto &item : v.toArray())
                out.append(item.isObject() ? QJsonValue(cleanSchema(item.toObject(), gemini)) : item);
            return out;
        }
        return v;
    };
    for (const char *key :
         {"items", "prefixItems", "anyOf", "oneOf", "allOf", "not", "additionalProperties"}) {
        if (schema.contains(QLatin1String(key)))
            schema.insert(QLatin1String(key), cleanValue(schema.value(QLatin1String(key))));
    }
    for (const char *map : {"properties", "$defs", "definitions"}) {
        if (!schema.value(QLatin1String(map)).isObject())
            continue;
        QJsonObject members = schema.value(QLatin1String(map)).toObject();
        for (auto it = members.begin(); it != members.end(); ++it)
            it.value() = cleanValue(it.value());
        schema.insert(QLatin1String(map), members);
    }
    return schema;
}

void cleanToolSchemas(QJsonObject &body, bool gemini)
{
    if (!body.value(QLatin1String("tools")).isArray())
        return;
    QJsonArray tools = body.value(QLatin1String("tools")).toArray();
    for (auto it = tools.begin(); it != tools.end(); ++it) {
        QJsonObject tool = it->toObject();
        QJsonObject function = tool.value(QLatin1String("function")).toObject();
        if (!function.value(QLatin1String("parameters")).isObject())
            continue;
        function.insert(QLatin1String("parameters"),
                        cleanSchema(function.value(QLatin1String("parameters")).toObject(), gemini));
        tool.insert(QLatin1String("function"), function);
        *it = tool;
    }
    body.insert(QLatin1String("tools"), tools);
}

const KindInfo *find(const QString &type)
{
    for (const auto &k : kKinds) {
        if (type == QLatin1String(k.type))
            return &k;
    }
    return nullptr;
}

// The text of a message content: a string, or the text parts of a multimodal array.
QString textOf(const QJsonValue &content)
{
    if (!content.isArray())
        return content.toString();
    QStringList texts;
    for (const auto &part : content.toArray()) {
        const QJsonObject p = part.toObject();
        if (p.value(QLatin1String("type")).toString() == QLatin1String("text"))
            texts << p.value(QLatin1String("text")).toString();
    }
    return texts.join(QLatin1Char('\n'));
}

// Gemma and other non-Gemini models on Google's endpoint reject system messages and structured output.
void mergeSystemIntoFirstUser(QJsonObject &body)
{
    const QJsonArray messages = body.value(QLatin1String("messages")).toArray();
    QStringList systemTexts;
    QJsonArray rest;
    for (const auto &m : messages) {
        const QJsonObject msg = m.toObject();
        if (msg.value(QLatin1String("role")).toString() == QLatin1String("system"))
            systemTexts << textOf(msg.value(QLatin1String("content")));
        else
            rest.append(msg);
    }
    if (systemTexts.isEmpty())
        return;
    const QString system = systemTexts.join(QLatin1Char('\n'));
    bool merged = false;
    for (int i = 0; i < rest.size(); ++i) {
        QJsonObject msg = rest.at(i).toObject();
        if (msg.value(QLatin1String("role")).toString() == QLatin1String("user")) {
            const QJsonValue content = msg.value(QLatin1String("content"));
            if (content.isArray()) { // multimodal parts: the system text goes first as a part of its own
                QJsonArray parts = content.toArray();
                parts.prepend(QJsonObject{{QLatin1String("type"), QLatin1String("text")},
                                          {QLatin1String("text"), system}});
                msg.insert(QLatin1String("content"), parts);
            } else {
                msg.insert(QLatin1String("content"),
                           QString(system + QLatin1String("\n\n") + content.toString()));
            }
            rest.replace(i, msg);
            merged = true;
            break;
        }
    }
    if (!merged)
        rest.prepend(
            QJsonObject{{QLatin1String("role"), QLatin1String("user")}, {QLatin1String("content"), system}});
    body.insert(QLatin1String("messages"), rest);
}

} // namespace

QStringList ProviderKind::knownTypes()
{
    QStringList types;
    for (const auto &k : kKinds)
        types << QLatin1String(k.type);
    return types;
}

bool ProviderKind::isKnownType(const QString &type)
{
    return find(type) != nullptr;
}

QString ProviderKind::defaultBaseUrl(const QString &type)
{
    const auto *k = find(type);
    return k ? QLatin1String(k->baseUrl) : QString();
}

QString ProviderKind::label(const QString &type)
{
    const auto *k = find(type);
    return k ? QCoreApplication::translate("ProviderKind", k->label) : type;
}

QJsonArray ProviderKind::typesJson()
{
    QJsonArray out;
    for (const auto &k : kKinds) {
        out.append(QJsonObject{{QStringLiteral("type"), QLatin1String(k.type)},
                               {QStringLiteral("label"), QLatin1String(k.label)},
                               {QStringLiteral("baseUrl"), QLatin1String(k.baseUrl)},
                               {QStringLiteral("requiresBaseUrl"), *k.baseUrl == '\0'}});
    }
    return out;
}

QList<QPair<QByteArray, QByteArray>> ProviderKind::extraHeaders(const QString &type)
{
    if (type == QLatin1String("openrouter"))
        return {{"HTTP-Referer", "429chain"}, {"X-Title", "429chain"}};
    return {};
}

QUrl ProviderKind::endpoint(const ProviderConfig &provider, const QString &path)
{
    QString base = provider.baseUrl.isEmpty() ? defaultBaseUrl(provider.type) : provider.baseUrl;
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return QUrl(base + path);
}

QList<QPair<QByteArray, QByteArray>> ProviderKind::requestHeaders(const ProviderConfig &provider)
{
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!provider.apiKey.isEmpty())
        headers.append({QByteArrayLiteral("Authorization"), "Bearer " + provider.apiKey.toUtf8()});
    headers += extraHeaders(provider.type);
    headers += provider.headers;
    return headers;
}

UpstreamCall::Request ProviderKind::upstreamRequest(const ProviderConfig &provider, const QString &path,
                                                    const QJsonObject &body, qint64 defaultTimeoutMs)
{
    UpstreamCall::Request request;
    request.url = endpoint(provider, path);
    request.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    request.headers = requestHeaders(provider);
    request.timeoutMs = provider.timeoutMs.value_or(defaultTimeoutMs);
    return request;
}

int ProviderKind::defaultMaxOutputTokens(const QString &type)
{
    const KindInfo *k = find(type);
    return k ? k->maxOutputTokens : 0;
}

void ProviderKind::adaptBody(const QString &type, const QString &model, QJsonObject &body)
{
    cleanToolSchemas(body, type == QLatin1String("google-ai"));
    if (type == QLatin1String("cerebras")) {
        body.remove(QLatin1String("presence_penalty"));
        body.remove(QLatin1String("frequency_penalty"));
    } else if (type == QLatin1String("google-ai") && !model.startsWith(QLatin1String("gemini-"))) {
        body.remove(QLatin1String("response_format"));
        body.remove(QLatin1String("tools"));
        body.remove(QLatin1String("tool_choice"));
        mergeSystemIntoFirstUser(body);
    }
}
