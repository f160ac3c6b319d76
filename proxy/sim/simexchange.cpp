#include "simexchange.h"

#include <QHttpServerResponder>

namespace {
// A cut connection must not lose what was written before it: abort() discards the socket's send buffer.
constexpr int kFlushPollMs = 2;
constexpr int kMaxFlushPolls = 1000;
} // namespace

SimExchange::Action SimExchange::Action::whole(int status, const QByteArray &body,
                                               const ResponseWriter::Headers &headers, int delayMs)
{
    Action a;
    a.type = Type::SendWhole;
    a.status = status;
    a.bytes = body;
    a.headers = headers;
    a.delayMs = delayMs;
    return a;
}

SimExchange::Action SimExchange::Action::begin(int status, const ResponseWriter::Headers &headers,
                                               const QByteArray &contentType)
{
    Action a;
    a.type = Type::Begin;
    a.status = status;
    a.headers = headers;
    a.contentType = contentType;
    return a;
}

SimExchange::Action SimExchange::Action::write(const QByteArray &bytes, int delayMs)
{
    Action a;
    a.type = Type::Write;
    a.bytes = bytes;
    a.delayMs = delayMs;
    return a;
}

SimExchange::Action SimExchange::Action::end(int delayMs)
{
    Action a;
    a.type = Type::End;
    a.delayMs = delayMs;
    return a;
}

SimExchange::Action SimExchange::Action::abort(int delayMs)
{
    Action a;
    a.type = Type::Abort;
    a.delayMs = delayMs;
    return a;
}

SimExchange::Action SimExchange::Action::hang()
{
    Action a;
    a.type = Type::Hang;
    return a;
}

SimExchange::SimExchange(QHttpServerResponder &&responder, QObject *parent)
    : QObject(parent), m_writer(new ResponseWriter(std::move(responder), this))
{
    m_delay.setSingleShot(true);
    connect(&m_delay, &QTimer::timeout, this, &SimExchange::advance);
    connect(&m_flushPoll, &QTimer::timeout, this, &SimExchange::pollFlush);
    connect(m_writer, &ResponseWriter::clientGone, this, [this] { finish(true); });
}

SimExchange::~SimExchange()
{
    if (!m_finished)
        m_writer->abortConnection();
}

void SimExchange::start()
{
    advance();
}

void SimExchange::advance()
{
    while (!m_finished && m_next < m_actions.size()) {
        const Action &action = m_actions.at(m_next);
        if (action.delayMs > 0 && !m_waited) {
            m_waited = true;
            m_delay.start(action.delayMs);
            return;
        }
        m_waited = false;
        ++m_next;
        switch (action.type) {
        case Action::Type::SendWhole:
            m_writer->sendWhole(action.status, action.bytes, action.headers);
            finish(false);
            return;
        case Action::Type::Begin:
            m_writer->beginStream(action.status, action.headers, action.contentType);
            m_streamStarted = true;
            emit streamStarted();
            // The header block goes out on its own, as from a real server. QNetworkAccessManager in Qt 6.4
            // takes a chunked body that arrived together with the headers and is then cut for a complete one.
            m_flushPolls = 0;
            m_resumeAfterFlush = true;
            m_flushPoll.start(kFlushPollMs);
            return;
        case Action::Type::Write: {
            // Pieces due at the same moment go out as one chunk.
            QByteArray batch = action.bytes;
            while (m_next < m_actions.size() && m_actions.at(m_next).type == Action::Type::Write &&
                   m_actions.at(m_next).delayMs <= 0) {
                batch += m_actions.at(m_next).bytes;
                ++m_next;
            }
            m_writer->writeChunk(batch);
            break;
        }
        case Action::Type::End:
            m_writer->endStream();
            finish(false);
            return;
        case Action::Type::Abort:
            // Never cut synchronously: this may run inside the server's request handler.
            m_flushPolls = 0;
            m_resumeAfterFlush = false;
            m_flushPoll.start(kFlushPollMs);
            return;
        case Action::Type::Hang:
            return;
        }
    }
}

void SimExchange::pollFlush()
{
    if (m_finished) {
        m_flushPoll.stop();
        return;
    }
    if (m_resumeAfterFlush) {
        if (m_writer->pendingBytes() > 0 && ++m_flushPolls < kMaxFlushPolls)
            return;
        m_resumeAfterFlush = false;
        m_flushPoll.stop();
        advance();
        return;
    }
    if (m_writer->pendingBytes() > 0 && ++m_flushPolls < kMaxFlushPolls)
        return;
    m_flushPoll.stop();
    m_writer->abortConnection();
    finish(false);
}

void SimExchange::finish(bool clientLeft)
{
    if (m_finished)
        return;
    m_finished = true;
    m_delay.stop();
    m_flushPoll.stop();
    emit finished(clientLeft);
}
