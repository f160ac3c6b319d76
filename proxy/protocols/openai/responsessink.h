#pragma once

#include "protocolsink.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

// The answer to a POST /v1/responses client, translated from the engine's chat answer into the OpenAI
// Responses shape: a whole `response` object (output: a message item with an output_text part, then one
// function_call item per tool call), or its event stream as OpenAI sends it (response.created,
// response.in_progress, then per output item output_item.added, content_part.added, output_text.delta…,
// output_text.done, content_part.done or function_call_arguments.delta…/.done, output_item.done, and
// response.completed with usage), every event named (`event:`) and numbered (sequence_number). A stream that
// fails after it began ends with response.failed, never response.completed. Errors before a stream are
// OpenAI-shaped. The model's reasoning text is not forwarded (no reasoning items are made).
class ResponsesSink : public ProtocolSink
{
    Q_OBJECT

public:
    // `echo`: ResponsesRequest::echo; `estimatedPromptTokens` stands in for usage a provider did not give.
    ResponsesSink(ClientTransport *transport, const QJsonObject &echo, qint64 estimatedPromptTokens,
                  QObject *parent = nullptr);

    void whole(const WholeAnswer &answer) override;
    void begin(const ServedBy &servedBy) override;
    void chunk(const StreamPiece &piece) override;
    void usage(const TokenUsage &usage) override;
    void done() override;
    void fail(const EngineFailure &failure) override;

private:
    // One output item while it streams.
    struct Item
    {
        bool isCall = false;
        QString id;
        int toolIndex = -1; // the chat stream's tool call index
        QString callId;
        QString name;
        QString text; // the message's text or the call's arguments
        bool closed = false;
    };

    void send(const QString &type, QJsonObject event);
    // An event that carries the response object (created, in_progress, completed, failed), already JSON.
    void sendResponse(const char *type, const QByteArray &responseJson);
    // A text or arguments delta, the event of every chunk: written directly, without a JSON object.
    void sendDelta(const char *type, const QString &itemId, int outputIndex, const QString &delta, bool text);
    QJsonObject responseObject(const QString &status, const QJsonArray &output) const;
    static QJsonObject itemJson(const Item &item, bool completed);
    void openMessage();
    void openCall(const ToolCallDelta &delta);
    void closeItem(Item &item);
    void closeOpenItems();
    QJsonArray outputJson() const;
    QJsonObject usageJson(const TokenUsage &usage) const;
    void applyFinish(QJsonObject *response) const;

    QJsonObject m_echo;
    qint64 m_estimatedPromptTokens;
    QString m_id;
    qint64 m_createdAt;
    bool m_streaming = false;
    int m_sequence = 0;
    QList<Item> m_items;
    int m_openMessage = -1; // index into m_items of the message being written, or -1
    QString m_finishReason;
    TokenUsage m_usage;
    bool m_haveUsage = false;
};
