// Fuzzes the Responses request translation: any body gives a chat body with messages or a 400 with an
// OpenAI-shaped error, never a crash, never another status; the embeddings check rides along on the same
// input.

#include "embeddingsrequest.h"
#include "fuzzcheck.h"
#include "openaierror.h"
#include "responsesrequest.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    ResponsesRequest request;
    if (const auto error = ResponsesRequest::parse(body, &request)) {
        FUZZ_CHECK(error->status == 400);
        FUZZ_CHECK(!error->message.isEmpty());
        const QJsonDocument doc = QJsonDocument::fromJson(OpenAiError::json(*error));
        FUZZ_CHECK(doc.object().value(QLatin1String("error")).isObject());
    } else {
        FUZZ_CHECK(!request.request.body.value(QLatin1String("messages")).toArray().isEmpty());
        FUZZ_CHECK(request.request.estimatedPromptTokens >= 0);
        FUZZ_CHECK(request.request.protocol == EngineRequest::Protocol::Responses);
    }
    EmbeddingsRequest embeddings;
    if (const auto error = EmbeddingsRequest::parse(body, &embeddings))
        FUZZ_CHECK(error->status == 400);
    else
        FUZZ_CHECK(embeddings.request.operation == EngineRequest::Operation::Embeddings);
    return 0;
}
