// The thinnest relay our stack allows, kept as the benchmark's floor: QHttpServer answers one route, swaps
// the request's "model", posts the whole body upstream through one of four QNetworkAccessManagers (round
// robin) and answers with the whole upstream body. No routing, limits, logging or streaming.
//
// bench_relay <listen-port> <upstream-url>   (port 0 picks one; the chosen port is printed as "port N")

#include <QCoreApplication>
#include <QHttpServer>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <cstdio>
#include <memory>
#include <vector>

namespace {

// The same socket option 429chain sets on every client connection (Nagle would hold back the body behind the
// headers QHttpServerResponder writes separately).
class LowDelayServer : public QTcpServer
{
public:
    QTcpSocket *nextPendingConnection() override
    {
        QTcpSocket *socket = QTcpServer::nextPendingConnection();
        if (socket)
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        return socket;
    }
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_relay <port> <upstream-url>\n");
        return 2;
    }
    const quint16 port = quint16(QByteArray(argv[1]).toUInt());
    const QUrl upstream(QString::fromLocal8Bit(argv[2]));

    std::vector<std::unique_ptr<QNetworkAccessManager>> managers;
    for (int i = 0; i < 4; ++i)
        managers.push_back(std::make_unique<QNetworkAccessManager>());
    size_t next = 0;

    QHttpServer server;
    server.route(QStringLiteral("/v1/chat/completions"), [&](const QHttpServerRequest &request,
                                                             QHttpServerResponder &&responder) {
        QJsonObject body = QJsonDocument::fromJson(request.body()).object();
        body.insert(QLatin1String("model"), QStringLiteral("upstream-model"));
        QNetworkRequest req(upstream);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkAccessManager *manager = managers[next++ % managers.size()].get();
        QNetworkReply *reply = manager->post(req, QJsonDocument(body).toJson(QJsonDocument::Compact));
        QPointer<QTcpSocket> socket(responder.socket()); // Qt 6.4: gone when the client is
        auto held = std::make_shared<QHttpServerResponder>(std::move(responder));
        QObject::connect(reply, &QNetworkReply::finished, reply, [reply, held, socket] {
            const QByteArray answer = reply->readAll();
            if (socket)
                held->write(answer, QByteArrayLiteral("application/json"));
            reply->deleteLater();
        });
    });
    auto *tcp = new LowDelayServer;
    tcp->setParent(&server);
    tcp->setListenBacklogSize(1024);
    if (!tcp->listen(QHostAddress::LocalHost, port)) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(tcp->errorString()));
        return 1;
    }
    server.bind(tcp);
    std::printf("port %d\n", int(tcp->serverPort()));
    std::fflush(stdout);
    return app.exec();
}
