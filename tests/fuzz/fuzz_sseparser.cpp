// Fuzzes the upstream SSE parser: arbitrary bytes fed in arbitrary pieces. Checks that splitting never
// changes the result, that memory stays within the configured bound, and that what serialize() writes parses
// back to the same events (the proxy re-frames what it relays).

#include "fuzzcheck.h"
#include "sseparser.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t seed = data[0];
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    constexpr qsizetype kMaxEvent = 4096;

    SseParser whole(kMaxEvent);
    QList<SseEvent> wholeEvents;
    whole.feed(input, wholeEvents);

    // The same bytes in pieces whose sizes come from the seed.
    SseParser pieces(kMaxEvent);
    QList<SseEvent> pieceEvents;
    qsizetype pos = 0;
    unsigned step = seed;
    while (pos < input.size()) {
        step = step * 1103515245u + 12345u;
        const qsizetype len = qMin<qsizetype>(input.size() - pos, 1 + (step >> 16) % 17);
        pieces.feed(input.sliced(pos, len), pieceEvents);
        pos += len;
    }
    FUZZ_CHECK(whole.overflowed() == pieces.overflowed());
    if (!whole.overflowed()) {
        FUZZ_CHECK(wholeEvents == pieceEvents);
        FUZZ_CHECK(whole.hasPartialData() == pieces.hasPartialData());
    }
    for (const SseEvent &event : wholeEvents) {
        FUZZ_CHECK(event.data.size() <= kMaxEvent && event.event.size() <= kMaxEvent &&
                   event.comment.size() <= kMaxEvent);
        // Re-framed, an event reads back as itself.
        SseParser again(kMaxEvent * 4);
        QList<SseEvent> back;
        again.feed(event.serialize(), back);
        FUZZ_CHECK(back.size() == 1);
        FUZZ_CHECK(back.first() == event);
    }
    return 0;
}
