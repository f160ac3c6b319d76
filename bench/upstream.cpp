// A fast, predictable upstream for the benchmark. A POST whose body asks for "stream":true gets `chunks` SSE
// chat-completion chunks `interval` ms apart (the first at once), each carrying its send time (steady clock,
// ns) as its content "T<ns> ", then a finish chunk, a usage chunk when stream_options.include_usage is set,
// and [DONE]. Any other request gets a fixed chat completion. Keep-alive, any number of connections.
//
// bench_upstream <port> <chunks> <interval-ms>   (port 0 picks one; the chosen port is printed as "port N")

#include <QByteArray>
#include <QCoreApplication>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <chrono>
#include <cstdio>

namespace {

const QByteArray kWhole = QByteArrayLiteral(
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"upstream-model",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark upstream."},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}})");

QByteArray chunked(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class Connection : public QObject
{
public:
    Connection(QTcpSocket *socket, int chunks, int intervalMs)
        : QObject(socket), m_socket(socket), m_chunks(chunks)
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(intervalMs);
        connect(&m_timer, &QTimer::timeout, this, &Connection::sendChunk);
        connect(socket, &QTcpSocket::readyRead, this, &Connection::onRead);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    void onRead()
    {
        m_buffer += m_socket->readAll();
        while (!m_streaming) {
            const qsizetype end = m_buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            qsizetype length = 0;
            const QByteArray head = m_buffer.left(end).toLower();
            const qsizetype cl = head.indexOf("content-length:");
            if (cl >= 0) {
                const qsizetype eol = head.indexOf("\r\n", cl);
                length = head.mid(cl + 15, eol < 0 ? -1 : eol - cl - 15).trimmed().toLongLong();
            }
            if (m_buffer.size() < end + 4 + length)
                return;
            const QByteArray body = m_buffer.mid(end + 4, length);
            m_buffer.remove(0, end + 4 + length);
            if (body.contains("\"stream\":true")) {
                m_streaming = true;
                m_usage = body.contains("include_usage");
                m_sent = 0;
                m_socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
                sendChunk();
                m_timer.start();
            } else {
                m_socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                QByteArray::number(kWhole.size()) + "\r\n\r\n" + kWhole);
            }
        }
    }

    void sendChunk()
    {
        if (m_sent < m_chunks) {
            ++m_sent;
            m_socket->write(chunked(
                R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
                R"("model":"upstream-model","choices":[{"index":0,"delta":{"content":"T)" +
                QByteArray::number(nowNs()) + R"( "},"finish_reason":null}]})" + "\n\n"));
            return;
        }
        m_timer.stop();
        QByteArray tail =
            R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
            R"("model":"upstream-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
            "\n\n";
        if (m_usage)
            tail += R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
                    R"("model":"upstream-model","choices":[],"usage":{"prompt_tokens":9,)"
                    R"("completion_tokens":)" +
                    QByteArray::number(m_chunks) + R"(,"total_tokens":)" + QByteArray::number(m_chunks + 9) +
                    "}}\n\n";
        tail += "data: [DONE]\n\n";
        m_socket->write(chunked(tail) + "0\r\n\r\n");
        m_streaming = false;
        if (!m_buffer.isEmpty())
            onRead();
    }

    QTcpSocket *m_socket;
    QByteArray m_buffer;
    QTimer m_timer;
    int m_chunks;
    int m_sent = 0;
    bool m_streaming = false;
    bool m_usage = false;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc < 4) {
        std::fprintf(stderr, "usage: bench_upstream <port> <chunks> <interval-ms>\n");
        return 2;
    }
    const int chunks = QByteArray(argv[2]).toInt();
    const int intervalMs = QByteArray(argv[3]).toInt();
    QTcpServer server;
    server.setListenBacklogSize(1024);
    QObject::connect(&server, &QTcpServer::newConnection, &server, [&] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            new Connection(socket, chunks, intervalMs);
        }
    });
    if (!server.listen(QHostAddress::LocalHost, quint16(QByteArray(argv[1]).toUInt()))) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    std::printf("port %d\n", int(server.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
