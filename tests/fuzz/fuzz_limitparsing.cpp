// Fuzzes the rate-limit signal parsers: the first byte picks the provider type, the next two the status, then
// header lines up to an empty line, then the body. Every answer must parse without a crash; times must stay
// sane (never before now, never beyond the horizon the parser promises).

#include "fuzzcheck.h"
#include "limithints.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    static const char *const kTypes[] = {"groq",       "openai",   "cerebras",   "openrouter",
                                         "google-ai",  "mistral",  "nvidia-nim", "generic-openai",
                                         "cloudflare", "sambanova"};
    const QString type = QString::fromLatin1(kTypes[data[0] % (sizeof kTypes / sizeof *kTypes)]);
    const int status = 200 + (data[1] | (data[2] << 8)) % 400;
    const QByteArray rest(reinterpret_cast<const char *>(data) + 3, qsizetype(size - 3));
    const qsizetype split = rest.indexOf("\n\n");
    const QByteArray head = split >= 0 ? rest.left(split) : rest;
    const QByteArray body = split >= 0 ? rest.mid(split + 2) : QByteArray();
    LimitParsing::Headers headers;
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    const qint64 nowMs = 1'750'000'000'000;
    const LimitSignal signal = LimitParsing::parse(type, status, headers, body, nowMs);
    if (signal.retryAfterMs)
        FUZZ_CHECK(*signal.retryAfterMs >= 0);
    if (const auto until = signal.exhaustedUntilMs(nowMs))
        FUZZ_CHECK(*until >= nowMs);
    for (const LimitWindow &w : signal.windows) {
        if (w.remaining)
            FUZZ_CHECK(*w.remaining >= 0);
        if (w.resetAtMs)
            FUZZ_CHECK(*w.resetAtMs >= nowMs - 1000 &&
                       *w.resetAtMs <= nowMs + LimitParsing::Detail::MaxHorizonMs + 1000);
    }
    // The single-value parsers on every header value and on the body.
    for (const auto &h : headers) {
        if (const auto v = LimitParsing::parseGoDuration(h.second))
            FUZZ_CHECK(*v >= 0);
        if (const auto v = LimitParsing::parseRetryAfter(h.second, nowMs))
            FUZZ_CHECK(*v >= 0);
        if (const auto v = LimitParsing::parseResetValue(h.second, nowMs))
            FUZZ_CHECK(*v >= 0);
        LimitParsing::parseHttpDate(h.second, nowMs);
        LimitParsing::parseRetryAfterMs(h.second);
        LimitParsing::parseSeconds(h.second);
        LimitParsing::Detail::parseCount(h.second);
    }
    return 0;
}
