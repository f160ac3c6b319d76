#pragma once

#include "simextras.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QQueue>
#include <QString>
#include <QStringList>

class Clock;
class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponder;
class SimExchange;

// A fake free-tier LLM provider on loopback that speaks like the real ones (PROVIDERS.md §1-2): OpenAI-style
// chat completions, streamed or whole, with each dialect's rate-limit headers, 429 bodies, auth errors and
// stream quirks. It is scriptable (the next requests take queued Steps: 429s, errors, hangs, drops, in-band
// errors) and has a built-in fixed-window request limiter. One piece of code for two uses: the fake upstream
// of every test, and the providers behind `429chain --demo` (see DemoEnvironment).
class SimulatedProvider : public QObject
{
    Q_OBJECT

public:
    enum class Dialect { OpenAI, Groq, OpenRouter, Cerebras, Gemini };

    // A tool call the model makes in an answer: the function's name and its arguments' JSON text.
    struct ToolCall
    {
        QString name;
        QString arguments;
    };

    // What to do with one chat request.
    struct Step
    {
        enum class Kind {
            Ok,                   // normal answer (stream or not, as the request asks)
            RateLimited,          // HTTP 429 in the dialect's shape (headers + body)
            Status,               // HTTP `status` with raw `body` (a dialect-shaped body if empty)
            Hang,                 // never answers (the responder stays alive, nothing is written)
            HangAfterHeaders,     // 200 + headers (+ keep-alive comment in OpenRouter dialect), then nothing
            DropBeforeFirstToken, // stream: 200 + headers + role chunk, then the connection is cut
            DropAfterTokens,      // stream: `tokens` content chunks, then the connection is cut (no [DONE])
            InBandErrorBeforeFirstToken, // stream: 200, the dialect's mid-stream error event, end
            InBandErrorAfterTokens,      // the same after `tokens` content chunks
        };

        Kind kind = Kind::Ok;
        // Named statusCode, not status: a member cannot share its name with the status() factory below.
        int statusCode = 200;
        // Status: the raw body. RateLimited: replaces the dialect's 429 body (headers stay). InBandError*:
        // the JSON object that replaces the dialect's `error` object in the error event.
        QByteArray body;
        qint64 retryAfterSeconds = -1; // RateLimited: adds Retry-After when >= 0 (and uses it in body hints)
        bool dailyCap = false;         // RateLimited: the per-day flavour of the dialect's 429
        int tokens = 0;                // *AfterTokens: content chunks sent first (the reply repeats if short)
        // Ok: when not empty, the answer calls these tools (finish_reason tool_calls) after `reply` (which
        // may be empty), instead of saying the next reply; streamed, each call's first chunk names it and its
        // arguments follow in two pieces.
        QList<ToolCall> toolCalls;
        QString reply;

        static Step ok();
        static Step rateLimited(qint64 retryAfterSeconds = -1);
        static Step dailyLimited(qint64 retryAfterSeconds = -1); // RateLimited with dailyCap
        static Step status(int code, const QByteArray &body = {});
        static Step of(Kind kind, int tokens = 0);
        static Step callTools(const QList<ToolCall> &calls, const QString &text = {});
    };

    struct ReceivedRequest
    {
        QString path;
        QList<QPair<QByteArray, QByteArray>> headers;
        QJsonObject body;   // empty if the body was not a JSON object
        QByteArray rawBody; // as received
        qint64 receivedAtMs = 0;

        // First value of a header, name case-insensitive; empty if absent.
        QByteArray header(const QByteArray &name) const;
    };

    explicit SimulatedProvider(Dialect dialect = Dialect::OpenAI, QObject *parent = nullptr);
    ~SimulatedProvider() override;

    bool listen(quint16 port = 0); // on 127.0.0.1; false if the port is taken or already listening
    quint16 port() const { return m_port; }
    QString baseUrl() const; // "http://127.0.0.1:<port>/v1"
    Dialect dialect() const { return m_dialect; }

    void enqueue(const Step &step);
    void setDefaultStep(const Step &step); // used when the script is empty (default: Ok)
    void clearScript();
    int pendingSteps() const { return int(m_script.size()); }

    void setReply(const QString &text);          // streamed one word (with its leading space) per chunk
    void setReplies(const QStringList &texts);   // used in turn, one per answer
    void setModels(const QStringList &modelIds); // for GET /v1/models (default: a few per dialect)
    void setChunkDelayMs(int ms);                // between content chunks; non-stream answers wait the sum
    void setReportsUsage(bool reports)
    {
        m_reportsUsage = reports;
    }                                  // false: no usage anywhere (as some providers)
    void setFirstTokenDelayMs(int ms); // before the first content chunk (and before a whole answer)
    // Fixed-window limiter: beyond `requests` accepted in `windowMs` (the window starts at the first request
    // after the previous one ended), answers RateLimited with the real reset time. Successes then carry the
    // dialect's rate-limit headers. 0 = no limit (and no rate-limit headers).
    void setRequestLimit(int requests, qint64 windowMs);
    void setRequiredApiKey(const QString &key); // a wrong or missing Bearer key gets the dialect's 401
    // Time for the limiter and for every clock value sent or recorded (OpenRouter's epoch-ms resets,
    // `created`, receivedAtMs). Not owned; null = wall clock. Delays always use real timers.
    void setClock(const Clock *clock);

    int requestCount() const { return int(m_requests.size()); } // chat and embeddings, rejected ones too
    QList<ReceivedRequest> requests() const { return m_requests; }
    ReceivedRequest lastRequest() const;
    // Answers (streamed or not, hangs included) whose client went away before the answer ended.
    int clientAborts() const { return m_clientAborts; }
    int activeStreams() const { return m_activeStreams; } // 200 event streams begun and not yet ended
    int maxConcurrentStreams() const { return m_maxConcurrentStreams; }
    int openAnswers() const { return m_openAnswers; } // answers not yet ended, streams and hangs included

    // ---- Tool calls and embeddings (answers built by SimExtras) ----
    // The next Ok chat answers call tools instead of answering text: one list of calls (after `text`, if
    // any) per answer, in the order enqueued; then text answers again.
    void enqueueToolCalls(const QList<SimExtras::ToolCall> &calls, const QString &text = {});
    int pendingToolCalls() const { return int(m_toolCallAnswers.size()); }
    // POST /v1/embeddings answers floats even when the request asks for base64 (as providers that ignore
    // encoding_format do), unless this is set. Its requests are recorded and take script steps like chat.
    void setEmbeddingsHonourBase64(bool honour) { m_embeddingsHonourBase64 = honour; }

signals:
    void requestReceived();
    void clientAborted();

private:
    struct Limiter
    {
        int requests = 0;
        qint64 windowMs = 0;
        qint64 windowStartMs = -1;
        int used = 0;
        int tokensUsed = 0;
    };

    void handleChat(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void handleModels(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void handleMissing(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void handleEmbeddings(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void answerToolCalls(const QJsonObject &body, const QString &model, bool stream, bool includeUsage,
                         SimExchange *exchange, qint64 now);
    // True if the key is fine; else the exchange is given the dialect's 401.
    bool checkApiKey(const QList<QPair<QByteArray, QByteArray>> &headers, SimExchange *exchange);
    void answerChat(const ReceivedRequest &request, SimExchange *exchange);
    void startExchange(SimExchange *exchange);
    qint64 nowMs() const;
    void rollWindow(qint64 now);
    QString nextReply();

    Dialect m_dialect;
    QHttpServer *m_server = nullptr;
    quint16 m_port = 0;
    QQueue<Step> m_script;
    Step m_defaultStep;
    QStringList m_replies;
    int m_replyIndex = 0;
    QStringList m_models;
    int m_chunkDelayMs = 0;
    int m_firstTokenDelayMs = 0;
    bool m_reportsUsage = true;
    Limiter m_limiter;
    QString m_requiredKey;
    const Clock *m_clock = nullptr;
    QList<ReceivedRequest> m_requests;
    int m_clientAborts = 0;
    int m_activeStreams = 0;
    int m_maxConcurrentStreams = 0;
    int m_openAnswers = 0;
    qint64 m_answerSerial = 0;
    QQueue<QPair<QString, QList<SimExtras::ToolCall>>> m_toolCallAnswers;
    bool m_embeddingsHonourBase64 = false;
};
