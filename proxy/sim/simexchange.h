#pragma once

#include "responsewriter.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTimer>

class QHttpServerResponder;

// One answer of a SimulatedProvider, played as a list of timed actions: a whole response, or a stream begun,
// written piece by piece and then ended, cut off or left hanging. It owns the ResponseWriter until the answer
// ends, stops at once when the client goes away, and says how the answer ended. Only SimulatedProvider uses
// it.
class SimExchange : public QObject
{
    Q_OBJECT

public:
    struct Action
    {
        enum class Type {
            SendWhole, // a complete response: status, headers, body
            Begin,     // status and headers of a chunked body
            Write,     // one piece of the chunked body
            End,       // the chunked body's terminator
            Abort,     // cut the connection once what was written has left the socket
            Hang,      // stop here and keep the connection open
        };

        Type type = Type::Write;
        int delayMs = 0; // waited before this action
        int status = 200;
        QByteArray bytes;
        ResponseWriter::Headers headers;
        QByteArray contentType = QByteArrayLiteral("application/json");

        static Action whole(int status, const QByteArray &body, const ResponseWriter::Headers &headers = {},
                            int delayMs = 0);
        static Action begin(int status, const ResponseWriter::Headers &headers,
                            const QByteArray &contentType = QByteArrayLiteral("text/event-stream"));
        static Action write(const QByteArray &bytes, int delayMs = 0);
        static Action end(int delayMs = 0);
        static Action abort(int delayMs = 0);
        static Action hang();
    };

    explicit SimExchange(QHttpServerResponder &&responder, QObject *parent = nullptr);
    // An exchange destroyed before its answer ended cuts the connection, like a server going down.
    ~SimExchange() override;

    void setActions(const QList<Action> &actions) { m_actions = actions; }
    void start();
    bool isFinished() const { return m_finished; }
    bool hasStreamStarted() const { return m_streamStarted; }

signals:
    void streamStarted();
    // The answer is over: written completely or cut by us (clientLeft false), or the client went away first.
    void finished(bool clientLeft);

private:
    void advance();
    void pollFlush();
    void finish(bool clientLeft);

    ResponseWriter *m_writer;
    QList<Action> m_actions;
    int m_next = 0;
    bool m_waited = false;
    bool m_finished = false;
    bool m_streamStarted = false;
    QTimer m_delay;
    QTimer m_flushPoll;
    int m_flushPolls = 0;
    bool m_resumeAfterFlush = false; // Begin: continue once the header block has left the socket
};
