// Fuzzes what runs in front of QHttpServer on every client connection: the request scanner (request heads,
// lengths, limits) fed in random pieces, and the Host and Origin checks of the API server. The scanner must
// never buffer more than its header limit, and splitting must not change what it decides.

#include "apiserver.h"
#include "fuzzcheck.h"
#include "requestscanner.h"

#include <cstdint>

namespace {
QList<RequestScanner::Event::Kind> kinds(const QList<RequestScanner::Event> &events)
{
    QList<RequestScanner::Event::Kind> out;
    for (const auto &e : events)
        out.append(e.kind);
    return out;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t seed = data[0];
    const char *bytes = reinterpret_cast<const char *>(data) + 1;
    const qint64 length = qint64(size - 1);
    RequestScanner::Limits limits;
    limits.maxBodyBytes = 4096;
    limits.maxHeaderBytes = 2048;
    limits.maxHeaderFields = 20;

    RequestScanner whole(limits);
    const auto wholeEvents = whole.feed(bytes, length);

    RequestScanner pieces(limits);
    QList<RequestScanner::Event> pieceEvents;
    qint64 pos = 0;
    unsigned step = seed;
    while (pos < length) {
        step = step * 1103515245u + 12345u;
        const qint64 len = qMin<qint64>(length - pos, 1 + (step >> 16) % 64);
        pieceEvents += pieces.feed(bytes + pos, len);
        pos += len;
    }
    FUZZ_CHECK(kinds(wholeEvents) == kinds(pieceEvents));
    FUZZ_CHECK(whole.rejected() == pieces.rejected());
    int open = 0;
    for (const auto &e : wholeEvents) {
        switch (e.kind) {
        case RequestScanner::Event::Kind::HeadComplete:
            FUZZ_CHECK(open == 0);
            FUZZ_CHECK(e.contentLength >= 0 && e.contentLength <= limits.maxBodyBytes);
            ++open;
            break;
        case RequestScanner::Event::Kind::RequestComplete:
            FUZZ_CHECK(open == 1);
            --open;
            break;
        case RequestScanner::Event::Kind::Rejected:
            FUZZ_CHECK(e.status >= 400 && e.status < 500);
            FUZZ_CHECK(!e.code.isEmpty());
            break;
        }
    }

    // The same bytes as a Host and an Origin header value.
    Settings settings;
    settings.allowedHosts = {QStringLiteral("api.example.com"), QStringLiteral(".corp.example")};
    settings.corsOrigins = {QStringLiteral("http://localhost:5173")};
    const QByteArray value(bytes, qsizetype(qMin<qint64>(length, 300)));
    ApiServer::hostAllowed(value, settings);
    if (ApiServer::hostAllowed(value, Settings()))
        FUZZ_CHECK(ApiServer::hostAllowed(value, settings)); // more allowed names never refuse more
    ApiServer::originAllowed(value, settings);
    return 0;
}
