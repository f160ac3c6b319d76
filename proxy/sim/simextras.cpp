#include "simextras.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtEndian>

namespace {

QString latin(const char *text)
{
    return QString::fromLatin1(text);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

int completionTokens(const SimExtras::ToolAnswer &answer)
{
    qsizetype chars = answer.text.size();
    for (const auto &call : answer.calls)
        chars += call.name.size() + call.arguments.size();
    return qMax(1, int(chars / 4));
}

QJsonObject usageOf(const SimExtras::ToolAnswer &answer)
{
    const int completion = completionTokens(answer);
    return QJsonObject{{latin("prompt_tokens"), answer.promptTokens},
                       {latin("completion_tokens"), completion},
                       {latin("total_tokens"), answer.promptTokens + completion}};
}

QByteArray chunkEvent(const SimExtras::ToolAnswer &answer, const QJsonObject &delta, const QJsonValue &finish)
{
    const QJsonObject choice{{latin("index"), 0}, {latin("delta"), delta}, {latin("finish_reason"), finish}};
    const QJsonObject o{{latin("id"), answer.id},
                        {latin("object"), latin("chat.completion.chunk")},
                        {latin("created"), answer.created},
                        {latin("model"), answer.model},
                        {latin("choices"), QJsonArray{choice}}};
    return "data: " + compact(o) + "\n\n";
}

} // namespace

namespace SimExtras {

QByteArray toolCallJson(const ToolAnswer &answer, bool reportsUsage)
{
    QJsonArray calls;
    for (const auto &call : answer.calls) {
        calls.append(QJsonObject{{latin("id"), call.id},
                                 {latin("type"), latin("function")},
                                 {latin("function"), QJsonObject{{latin("name"), call.name},
                                                                 {latin("arguments"), call.arguments}}}});
    }
    const QJsonObject message{
        {latin("role"), latin("assistant")},
        {latin("content"), answer.text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(answer.text)},
        {latin("tool_calls"), calls}};
    QJsonObject o{{latin("id"), answer.id},
                  {latin("object"), latin("chat.completion")},
                  {latin("created"), answer.created},
                  {latin("model"), answer.model},
                  {latin("choices"), QJsonArray{QJsonObject{{latin("index"), 0},
                                                            {latin("message"), message},
                                                            {latin("finish_reason"), latin("tool_calls")}}}}};
    if (reportsUsage)
        o.insert(latin("usage"), usageOf(answer));
    return compact(o);
}

QList<SimExchange::Action> toolCallStream(const ToolAnswer &answer, bool includeUsage,
                                          const ResponseWriter::Headers &headers)
{
    using Action = SimExchange::Action;
    QList<Action> actions{Action::begin(200, headers)};
    actions << Action::write(
        chunkEvent(answer, QJsonObject{{latin("role"), latin("assistant")}, {latin("content"), latin("")}},
                   QJsonValue::Null));
    if (!answer.text.isEmpty())
        actions << Action::write(
            chunkEvent(answer, QJsonObject{{latin("content"), answer.text}}, QJsonValue::Null));
    for (qsizetype i = 0; i < answer.calls.size(); ++i) {
        const ToolCall &call = answer.calls.at(i);
        const QJsonObject naming{
            {latin("index"), int(i)},
            {latin("id"), call.id},
            {latin("type"), latin("function")},
            {latin("function"), QJsonObject{{latin("name"), call.name}, {latin("arguments"), latin("")}}}};
        actions << Action::write(
            chunkEvent(answer, QJsonObject{{latin("tool_calls"), QJsonArray{naming}}}, QJsonValue::Null));
        // The arguments in three pieces, as a model writes them.
        const qsizetype step = qMax<qsizetype>(1, (call.arguments.size() + 2) / 3);
        for (qsizetype at = 0; at < call.arguments.size(); at += step) {
            const QJsonObject piece{
                {latin("index"), int(i)},
                {latin("function"), QJsonObject{{latin("arguments"), call.arguments.mid(at, step)}}}};
            actions << Action::write(
                chunkEvent(answer, QJsonObject{{latin("tool_calls"), QJsonArray{piece}}}, QJsonValue::Null));
        }
    }
    actions << Action::write(chunkEvent(answer, QJsonObject{}, latin("tool_calls")));
    if (includeUsage) {
        const QJsonObject o{
            {latin("id"), answer.id},           {latin("object"), latin("chat.completion.chunk")},
            {latin("created"), answer.created}, {latin("model"), answer.model},
            {latin("choices"), QJsonArray{}},   {latin("usage"), usageOf(answer)}};
        actions << Action::write("data: " + compact(o) + "\n\n");
    }
    actions << Action::write(QByteArrayLiteral("data: [DONE]\n\n")) << Action::end();
    return actions;
}

QList<float> embeddingOf(const QString &text, int dimensions)
{
    QList<float> values;
    QByteArray seed = text.toUtf8();
    while (values.size() < dimensions) {
        seed = QCryptographicHash::hash(seed, QCryptographicHash::Sha256);
        for (qsizetype i = 0; i + 1 < seed.size() && values.size() < dimensions; i += 2) {
            const int raw = (uchar(seed.at(i)) << 8) | uchar(seed.at(i + 1));
            values << float(raw - 32768) / 32768.0f; // in [-1, 1), exact in float32
        }
    }
    return values;
}

QByteArray embeddingsJson(const QJsonObject &body, const QString &model, bool base64)
{
    const int dimensions = qBound(1, body.value(QLatin1String("dimensions")).toInt(8), 4096);
    const QJsonValue input = body.value(QLatin1String("input"));
    QStringList texts;
    if (input.isString()) {
        texts << input.toString();
    } else {
        const QJsonArray items = input.toArray();
        if (!items.isEmpty() && items.first().isDouble())
            texts << QString::fromUtf8(QJsonDocument(items).toJson(QJsonDocument::Compact));
        else
            for (const auto &item : items)
                texts << (item.isString()
                              ? item.toString()
                              : QString::fromUtf8(
                                    QJsonDocument(item.toArray()).toJson(QJsonDocument::Compact)));
    }
    QJsonArray data;
    int tokens = 0;
    for (qsizetype i = 0; i < texts.size(); ++i) {
        const QList<float> values = embeddingOf(texts.at(i), dimensions);
        tokens += qMax(1, int(texts.at(i).size() / 4));
        QJsonValue embedding;
        if (base64) {
            QByteArray bytes(values.size() * qsizetype(sizeof(float)), Qt::Uninitialized);
            for (qsizetype v = 0; v < values.size(); ++v)
                qToLittleEndian(values.at(v), bytes.data() + v * qsizetype(sizeof(float)));
            embedding = QString::fromLatin1(bytes.toBase64());
        } else {
            QJsonArray floats;
            for (float v : values)
                floats.append(double(v));
            embedding = floats;
        }
        data.append(QJsonObject{{latin("object"), latin("embedding")},
                                {latin("index"), int(i)},
                                {latin("embedding"), embedding}});
    }
    return compact(QJsonObject{
        {latin("object"), latin("list")},
        {latin("data"), data},
        {latin("model"), model},
        {latin("usage"), QJsonObject{{latin("prompt_tokens"), tokens}, {latin("total_tokens"), tokens}}}});
}

} // namespace SimExtras
