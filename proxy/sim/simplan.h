#pragma once

#include "responsewriter.h"
#include "simexchange.h"
#include "simulatedprovider.h"

#include <QList>

class SimAnswer;

// Turns the Step a chat request drew into the timed actions of its answer: a whole response after the
// generation time, or a stream (role chunk, paced words, finish, usage, [DONE]) that may hang, be cut or
// carry an in-band error instead of ending. Used by SimulatedProvider once auth, limiter and script have had
// their say.
namespace SimPlan {

struct Pacing
{
    int firstTokenDelayMs = 0; // before the first content chunk (and before a whole answer)
    int chunkDelayMs = 0;      // between content chunks
};

// For Ok, Hang, HangAfterHeaders, Drop* and InBandError* steps; RateLimited and Status give an empty list.
QList<SimExchange::Action> actions(SimulatedProvider::Dialect dialect, const SimulatedProvider::Step &step,
                                   const SimAnswer &answer, bool stream, bool includeUsage,
                                   const ResponseWriter::Headers &headers, const Pacing &pacing);

} // namespace SimPlan
