// Fuzzes the Anthropic Messages adapter: any body gives a translated request or a 400 in Anthropic's error
// shape (for /v1/messages and for count_tokens), never a crash; and the same bytes taken as a provider's
// whole answer or stream chunk give the sink's valid JSON (tool arguments repaired or {}), never a crash.

#include "anthropicerror.h"
#include "anthropicrequest.h"
#include "anthropicsink.h"
#include "fuzzcheck.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstdint>

namespace {

class Recorder : public ClientTransport
{
public:
    bool isConnected() const override { return true; }
    qint64 pendingBytes() const override { return 0; }
    void sendWhole(int, const QByteArray &b, const Headers &, const QByteArray &) override { body = b; }
    void beginStream(int, const Headers &, const QByteArray &) override {}
    void writeChunk(const QByteArray &data) override { body += data; }
    void endStream() override {}
    QByteArray body;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    for (const auto purpose : {AnthropicRequest::Purpose::Messages, AnthropicRequest::Purpose::CountTokens}) {
        AnthropicRequest request;
        if (const auto error = AnthropicRequest::parse(body, &request, purpose)) {
            FUZZ_CHECK(error->status == 400);
            const QJsonDocument doc = QJsonDocument::fromJson(AnthropicError::json(*error));
            FUZZ_CHECK(doc.object().value(QLatin1String("type")).toString() == QLatin1String("error"));
            FUZZ_CHECK(doc.object().value(QLatin1String("error")).isObject());
            continue;
        }
        FUZZ_CHECK(!request.clientModel.isEmpty());
        FUZZ_CHECK(request.request.body.value(QLatin1String("messages")).isArray());
        FUZZ_CHECK(request.request.estimatedPromptTokens >= 0);
    }

    // The bytes as a provider's whole answer: a valid Anthropic message comes out.
    auto *whole = new Recorder;
    {
        AnthropicSink sink(whole, QStringLiteral("m"), 1);
        sink.whole(WholeAnswer{ServedBy{}, body});
        const QJsonObject message = QJsonDocument::fromJson(whole->body).object();
        FUZZ_CHECK(message.value(QLatin1String("type")).toString() == QLatin1String("message"));
        for (const auto &block : message.value(QLatin1String("content")).toArray()) {
            const QJsonObject b = block.toObject();
            if (b.value(QLatin1String("type")).toString() == QLatin1String("tool_use"))
                FUZZ_CHECK(b.value(QLatin1String("input")).isObject());
        }
    }
    // The bytes as a stream chunk, twice (a second call continues the blocks the first opened).
    auto *streamed = new Recorder;
    {
        AnthropicSink sink(streamed, QStringLiteral("m"), 1);
        sink.begin(ServedBy{});
        sink.chunk(StreamPiece(StreamPiece::Kind::Chunk, body, body));
        sink.chunk(StreamPiece(StreamPiece::Kind::Chunk, body, body));
        sink.done();
        FUZZ_CHECK(streamed->body.endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    }
    return 0;
}
