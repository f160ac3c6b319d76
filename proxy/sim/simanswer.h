#pragma once

#include "simulatedprovider.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

// The bytes of one simulated chat answer in a provider's dialect: the whole chat.completion JSON, or the SSE
// events of a stream (role chunk, one chunk per word, finish chunk, usage chunk, [DONE], error events), with
// the dialect's extras (Groq x_groq, OpenRouter provider and cost, Cerebras time_info). Used by
// SimulatedProvider.
class SimAnswer
{
public:
    using Dialect = SimulatedProvider::Dialect;

    SimAnswer(Dialect dialect, const QString &model, const QString &text, int promptTokens, qint64 nowMs,
              qint64 serial);

    // OpenAI: with stream_options.include_usage every chunk carries "usage": null.
    void setUsageRequested(bool requested) { m_usageRequested = requested; }
    void setReportsUsage(bool reports) { m_reportsUsage = reports; }
    // The answer calls these tools after its text: finish_reason becomes tool_calls.
    void setToolCalls(const QList<SimulatedProvider::ToolCall> &calls) { m_toolCalls = calls; }
    const QList<SimulatedProvider::ToolCall> &toolCalls() const { return m_toolCalls; }

    const QStringList &pieces() const { return m_pieces; }
    int completionTokens() const { return int(m_pieces.size()) + int(m_toolCalls.size()) * 8; }
    int totalTokens() const { return m_promptTokens + completionTokens(); }

    QByteArray completionJson() const;
    QByteArray roleEvent() const;
    // Piece `index` of the text; wraps around so that any number of chunks can be sent.
    QByteArray contentEvent(int index) const;
    QByteArray finishEvent() const;
    // The stream's tool-call chunks: per call one naming it (id, name, empty arguments), then its
    // arguments in two pieces.
    QList<QByteArray> toolCallEvents() const;
    QByteArray usageEvent() const;
    // The dialect's mid-stream error; `errorObject` (JSON) replaces the default `error` object if not empty.
    QByteArray errorEvent(const QByteArray &errorObject) const;
    // A 200 non-stream body that carries only an error (what an in-band error looks like without streaming).
    QByteArray errorJson(const QByteArray &errorObject) const;

    static QByteArray doneEvent();
    static QByteArray commentEvent(const QByteArray &text);
    // Words with their leading whitespace; joined they give the text back (trailing whitespace included).
    static QStringList splitWords(const QString &text);
    // About a token per four characters of message text, at least 1.
    static int promptTokens(const QJsonObject &body);

private:
    QJsonObject chunk(const QJsonObject &delta, const QJsonValue &finishReason) const;
    QString finishReason() const;
    QString toolCallId(int index) const;
    QJsonObject usage() const;
    QJsonObject timeInfo() const;
    QJsonObject errorObject(const QByteArray &custom) const;
    static QByteArray dataEvent(const QJsonObject &o);

    Dialect m_dialect;
    QString m_model;
    QString m_text;
    QStringList m_pieces;
    int m_promptTokens;
    qint64 m_created;
    QString m_id;
    QString m_requestId;
    bool m_usageRequested = false;
    bool m_reportsUsage = true;
    QList<SimulatedProvider::ToolCall> m_toolCalls;
};
