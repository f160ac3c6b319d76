#pragma once

#include "protocolsink.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

// The answer to a POST /v1/messages client, translated from the engine's OpenAI chat format.
// A whole answer: {id: "msg_…", type: "message", role: "assistant", model: <the client's>, content: [text |
// tool_use blocks], stop_reason, stop_sequence, usage}. stop_reason is tool_use whenever tool calls came
// back (whatever the provider's finish_reason), max_tokens for `length`, refusal for `content_filter`,
// stop_sequence where the provider says which sequence matched (a `stop_reason` string on the choice, as
// vLLM-style servers send), end_turn otherwise. Tool arguments that are not a JSON object are repaired where
// that is unambiguous (empty → {}, a JSON string holding the object, a ```json fence), else {} with a
// warning. A stream: message_start (input_tokens: the prompt estimate), one content block per text run and
// per tool call in order (a text block is closed before a tool block opens), text_delta and input_json_delta
// events as the provider's chunks arrive, content_block_stop, message_delta (stop_reason, usage from the
// engine), message_stop; `ping` for the engine's keep-alives. A stream that fails after it began ends with an
// `error` event and no message_stop.
class AnthropicSink : public ProtocolSink
{
    Q_OBJECT

public:
    AnthropicSink(ClientTransport *transport, const QString &clientModel, qint64 estimatedInputTokens,
                  const QStringList &stopSequences = {}, QObject *parent = nullptr);

    void whole(const WholeAnswer &answer) override;
    void begin(const ServedBy &servedBy) override;
    void chunk(const StreamPiece &piece) override;
    void usage(const TokenUsage &usage) override;
    void done() override;
    void fail(const EngineFailure &failure) override;

    // A tool call's arguments text as the `input` object of a tool_use block (see the class comment).
    static QJsonObject toolInput(const QString &arguments, bool *repaired = nullptr);
    // An SSE event of this protocol: `event: <type>` and the object as its data.
    static QByteArray event(const QString &type, const QJsonObject &data);

private:
    enum class Block { None, Text, Tool };

    void write(const QString &type, const QJsonObject &data);
    void openText();
    void openTool(const QString &id, const QString &name);
    void toolArguments(const QString &arguments);
    void closeBlock();
    QString stopReason(const QString &finishReason, bool toolCalls, QString *stopSequence) const;
    void noteStopSequence(const QByteArray &chunkJson);

    QString m_id;
    QString m_model;
    qint64 m_estimatedInput;
    QStringList m_stopSequences;
    bool m_streaming = false;
    // The stream's state.
    Block m_block = Block::None;
    int m_blockIndex = -1;        // of the open (or last) content block
    int m_toolIndex = -1;         // the provider's index of the tool call whose block is open
    QList<int> m_closedTools;     // provider indexes of tool calls whose block is closed
    bool m_toolStreaming = false; // the open tool block's arguments are relayed as they come
    QString m_toolHeld;           // the open tool block's arguments held back until they can be judged
    bool m_sawToolCall = false;
    QString m_finishReason;
    QString m_matchedStop;
    qint64 m_inputTokens = -1;
    qint64 m_outputTokens = 0;
};
