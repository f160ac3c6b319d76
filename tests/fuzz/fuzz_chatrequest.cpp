// Fuzzes chat-request validation: any body gives a parsed request or a 400 with an OpenAI-shaped error,
// never a crash, never another status.

#include "fuzzcheck.h"
#include "openaichatrequest.h"
#include "openaierror.h"

#include <QJsonDocument>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    OpenAiChatRequest request;
    if (const auto error = OpenAiChatRequest::parse(body, &request)) {
        FUZZ_CHECK(error->status == 400 || error->status == 413);
        const QJsonDocument doc = QJsonDocument::fromJson(OpenAiError::json(*error));
        FUZZ_CHECK(doc.isObject());
        FUZZ_CHECK(doc.object().value(QLatin1String("error")).isObject());
        return 0;
    }
    FUZZ_CHECK(!request.request.body.isEmpty());
    FUZZ_CHECK(request.request.estimatedPromptTokens >= 0);
    return 0;
}
