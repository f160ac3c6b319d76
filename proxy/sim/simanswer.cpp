#include "simanswer.h"

#include "simdialect.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace {

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

SimAnswer::SimAnswer(Dialect dialect, const QString &model, const QString &text, int promptTokens,
                     qint64 nowMs, qint64 serial)
    : m_dialect(dialect)
    , m_model(model)
    , m_text(text)
    , m_pieces(splitWords(text))
    , m_promptTokens(promptTokens)
    , m_created(nowMs / 1000)
{
    const QString n = QString::number(serial);
    m_id = dialect == Dialect::OpenRouter ? latin("gen-sim-") + n : latin("chatcmpl-sim-") + n;
    m_requestId = latin("req_sim_") + n;
}

QStringList SimAnswer::splitWords(const QString &text)
{
    static const QRegularExpression word(QStringLiteral("\\s*\\S+"));
    QStringList pieces;
    qsizetype end = 0;
    auto it = word.globalMatch(text);
    while (it.hasNext()) {
        const auto match = it.next();
        pieces << match.captured();
        end = match.capturedEnd();
    }
    if (!pieces.isEmpty() && end < text.size())
        pieces.last() += text.mid(end);
    return pieces;
}

int SimAnswer::promptTokens(const QJsonObject &body)
{
    qsizetype chars = 0;
    const QJsonArray messages = body.value(QLatin1String("messages")).toArray();
    for (const auto &m : messages) {
        const QJsonValue content = m.toObject().value(QLatin1String("content"));
        if (content.isString()) {
            chars += content.toString().size();
        } else if (content.isArray()) {
            for (const auto &part : content.toArray())
                chars += part.toObject().value(QLatin1String("text")).toString().size();
        }
    }
    return qMax(1, int(chars / 4));
}

QJsonObject SimAnswer::usage() const
{
    QJsonObject u{{latin("prompt_tokens"), m_promptTokens},
                  {latin("completion_tokens"), completionTokens()},
                  {latin("total_tokens"), totalTokens()}};
    switch (m_dialect) {
    case Dialect::Groq:
        u.insert(latin("queue_time"), 0.012);
        u.insert(latin("prompt_time"), 0.004);
        u.insert(latin("completion_time"), 0.02 * completionTokens());
        u.insert(latin("total_time"), 0.016 + 0.02 * completionTokens());
        break;
    case Dialect::OpenRouter:
        u.insert(latin("cost"), 0);
        u.insert(latin("prompt_tokens_details"), QJsonObject{{latin("cached_tokens"), 0}});
        break;
    case Dialect::Cerebras:
        u.insert(latin("prompt_tokens_details"), QJsonObject{{latin("cached_tokens"), 0}});
        break;
    case Dialect::OpenAI:
    case Dialect::Gemini:
        break;
    }
    return u;
}

QJsonObject SimAnswer::timeInfo() const
{
    return QJsonObject{{latin("queue_time"), 0.0002},
                       {latin("prompt_time"), 0.001},
                       {latin("completion_time"), 0.01 * completionTokens()},
                       {latin("total_time"), 0.0012 + 0.01 * completionTokens()},
                       {latin("created"), m_created}};
}

QString SimAnswer::finishReason() const
{
    return m_toolCalls.isEmpty() ? latin("stop") : latin("tool_calls");
}

QString SimAnswer::toolCallId(int index) const
{
    return m_id + latin("_call_") + QString::number(index);
}

QByteArray SimAnswer::completionJson() const
{
    QJsonObject message{{latin("role"), latin("assistant")}, {latin("content"), m_text}};
    if (!m_toolCalls.isEmpty()) {
        QJsonArray calls;
        for (int i = 0; i < m_toolCalls.size(); ++i) {
            calls.append(QJsonObject{
                {latin("id"), toolCallId(i)},
                {latin("type"), latin("function")},
                {latin("function"), QJsonObject{{latin("name"), m_toolCalls.at(i).name},
                                                {latin("arguments"), m_toolCalls.at(i).arguments}}}});
        }
        message.insert(latin("tool_calls"), calls);
        if (m_text.isEmpty())
            message.insert(latin("content"), QJsonValue::Null);
    }
    const QJsonObject choice{{latin("index"), 0},
                             {latin("message"), message},
                             {latin("logprobs"), QJsonValue::Null},
                             {latin("finish_reason"), finishReason()}};
    QJsonObject o{{latin("id"), m_id},
                  {latin("object"), latin("chat.completion")},
                  {latin("created"), m_created},
                  {latin("model"), m_model},
                  {latin("choices"), QJsonArray{choice}},
                  {latin("system_fingerprint"), latin("fp_sim")}};
    if (m_reportsUsage)
        o.insert(latin("usage"), usage());
    if (m_dialect == Dialect::Groq) {
        o.insert(latin("x_groq"), QJsonObject{{latin("id"), m_requestId}});
        o.insert(latin("service_tier"), latin("on_demand"));
    } else if (m_dialect == Dialect::OpenRouter) {
        o.insert(latin("provider"), latin("Simulated"));
    } else if (m_dialect == Dialect::Cerebras) {
        o.insert(latin("time_info"), timeInfo());
    }
    return compact(o);
}

QJsonObject SimAnswer::chunk(const QJsonObject &delta, const QJsonValue &finishReason) const
{
    const QJsonObject choice{{latin("index"), 0},
                             {latin("delta"), delta},
                             {latin("logprobs"), QJsonValue::Null},
                             {latin("finish_reason"), finishReason}};
    QJsonObject o{{latin("id"), m_id},
                  {latin("object"), latin("chat.completion.chunk")},
                  {latin("created"), m_created},
                  {latin("model"), m_model},
                  {latin("system_fingerprint"), latin("fp_sim")},
                  {latin("choices"), QJsonArray{choice}}};
    if (m_dialect == Dialect::OpenRouter)
        o.insert(latin("provider"), latin("Simulated"));
    if (m_dialect == Dialect::OpenAI && m_usageRequested)
        o.insert(latin("usage"), QJsonValue::Null);
    return o;
}

QByteArray SimAnswer::dataEvent(const QJsonObject &o)
{
    return "data: " + compact(o) + "\n\n";
}

QByteArray SimAnswer::roleEvent() const
{
    QJsonObject o = chunk(QJsonObject{{latin("role"), latin("assistant")}, {latin("content"), latin("")}},
                          QJsonValue::Null);
    if (m_dialect == Dialect::Groq)
        o.insert(latin("x_groq"), QJsonObject{{latin("id"), m_requestId}});
    return dataEvent(o);
}

QByteArray SimAnswer::contentEvent(int index) const
{
    const QString piece = m_pieces.isEmpty() ? latin("...") : m_pieces.at(index % m_pieces.size());
    return dataEvent(chunk(QJsonObject{{latin("content"), piece}}, QJsonValue::Null));
}

QByteArray SimAnswer::finishEvent() const
{
    QJsonObject o = chunk(QJsonObject{}, finishReason());
    if (m_dialect == Dialect::Groq && m_reportsUsage)
        o.insert(latin("x_groq"), QJsonObject{{latin("id"), m_requestId}, {latin("usage"), usage()}});
    return dataEvent(o);
}

QList<QByteArray> SimAnswer::toolCallEvents() const
{
    QList<QByteArray> events;
    for (int i = 0; i < m_toolCalls.size(); ++i) {
        const QString &arguments = m_toolCalls.at(i).arguments;
        auto piece = [&](const QJsonObject &call) {
            return dataEvent(chunk(QJsonObject{{latin("tool_calls"), QJsonArray{call}}}, QJsonValue::Null));
        };
        events << piece(QJsonObject{{latin("index"), i},
                                    {latin("id"), toolCallId(i)},
                                    {latin("type"), latin("function")},
                                    {latin("function"), QJsonObject{{latin("name"), m_toolCalls.at(i).name},
                                                                    {latin("arguments"), latin("")}}}});
        const qsizetype half = arguments.size() / 2;
        for (const QString &part : {arguments.left(half), arguments.mid(half)}) {
            if (!part.isEmpty())
                events << piece(QJsonObject{{latin("index"), i},
                                            {latin("function"), QJsonObject{{latin("arguments"), part}}}});
        }
    }
    return events;
}

QByteArray SimAnswer::usageEvent() const
{
    QJsonObject o{{latin("id"), m_id},
                  {latin("object"), latin("chat.completion.chunk")},
                  {latin("created"), m_created},
                  {latin("model"), m_model},
                  {latin("system_fingerprint"), latin("fp_sim")},
                  {latin("choices"), QJsonArray{}},
                  {latin("usage"), usage()}};
    if (m_dialect == Dialect::Cerebras)
        o.insert(latin("time_info"), timeInfo());
    if (m_dialect == Dialect::OpenRouter)
        o.insert(latin("provider"), latin("Simulated"));
    return dataEvent(o);
}

QJsonObject SimAnswer::errorObject(const QByteArray &custom) const
{
    const QByteArray json = custom.isEmpty() ? SimDialect::inBandErrorObject(m_dialect) : custom;
    return QJsonDocument::fromJson(json).object();
}

QByteArray SimAnswer::errorEvent(const QByteArray &errorObject) const
{
    if (m_dialect == Dialect::OpenRouter) {
        // HTTP stays 200; the error rides on a chunk whose finish_reason is "error" (OpenRouter streaming
        // docs).
        QJsonObject o = chunk(QJsonObject{{latin("content"), latin("")}}, latin("error"));
        o.insert(latin("error"), this->errorObject(errorObject));
        return dataEvent(o);
    }
    // Groq and the others: a named SSE event.
    return "event: error\n" + dataEvent(QJsonObject{{latin("error"), this->errorObject(errorObject)}});
}

QByteArray SimAnswer::errorJson(const QByteArray &errorObject) const
{
    return compact(QJsonObject{{latin("error"), this->errorObject(errorObject)}});
}

QByteArray SimAnswer::doneEvent()
{
    return QByteArrayLiteral("data: [DONE]\n\n");
}

QByteArray SimAnswer::commentEvent(const QByteArray &text)
{
    return ": " + text + "\n\n";
}
