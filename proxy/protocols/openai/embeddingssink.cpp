#include "embeddingssink.h"

#include "openaichatsink.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>

EmbeddingsSink::EmbeddingsSink(ClientTransport *transport, const QString &clientModel, bool base64,
                               QObject *parent)
    : ProtocolSink(transport, parent), m_clientModel(clientModel), m_base64(base64)
{
}

QByteArray EmbeddingsSink::encodeFloats(const QJsonArray &values)
{
    QByteArray bytes(values.size() * qsizetype(sizeof(float)), Qt::Uninitialized);
    for (qsizetype i = 0; i < values.size(); ++i)
        qToLittleEndian(float(values.at(i).toDouble()), bytes.data() + i * qsizetype(sizeof(float)));
    return bytes.toBase64();
}

QByteArray EmbeddingsSink::clientBody(const QByteArray &providerBody, const QString &clientModel, bool base64)
{
    QJsonObject body = QJsonDocument::fromJson(providerBody).object();
    if (!clientModel.isEmpty())
        body.insert(QLatin1String("model"), clientModel);
    if (base64) {
        QJsonArray data = body.value(QLatin1String("data")).toArray();
        for (qsizetype i = 0; i < data.size(); ++i) {
            QJsonObject item = data.at(i).toObject();
            const QJsonValue embedding = item.value(QLatin1String("embedding"));
            if (embedding.isArray()) {
                item.insert(QLatin1String("embedding"),
                            QString::fromLatin1(encodeFloats(embedding.toArray())));
                data.replace(i, item);
            }
        }
        body.insert(QLatin1String("data"), data);
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

void EmbeddingsSink::whole(const WholeAnswer &answer)
{
    if (auto *t = transport())
        t->sendWhole(200, clientBody(answer.body, m_clientModel, m_base64), servedHeaders(answer.servedBy));
}

void EmbeddingsSink::begin(const ServedBy &servedBy)
{
    Q_UNUSED(servedBy);
}

void EmbeddingsSink::chunk(const StreamPiece &piece)
{
    Q_UNUSED(piece);
}

void EmbeddingsSink::done() {}

void EmbeddingsSink::fail(const EngineFailure &failure)
{
    if (auto *t = transport())
        t->sendWhole(failure.error.status, OpenAiChatSink::errorBody(failure), failureHeaders(failure));
}
