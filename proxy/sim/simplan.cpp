#include "simplan.h"

#include "simanswer.h"

namespace SimPlan {

QList<SimExchange::Action> actions(SimulatedProvider::Dialect dialect, const SimulatedProvider::Step &step,
                                   const SimAnswer &answer, bool stream, bool includeUsage,
                                   const ResponseWriter::Headers &headers, const Pacing &pacing)
{
    using Action = SimExchange::Action;
    using Step = SimulatedProvider::Step;

    QList<Action> actions;
    if (!stream) {
        const int pieces = int(answer.pieces().size());
        switch (step.kind) {
        case Step::Kind::Ok:
            actions << Action::whole(200, answer.completionJson(), headers,
                                     pacing.firstTokenDelayMs + pacing.chunkDelayMs * qMax(0, pieces - 1));
            break;
        case Step::Kind::Hang:
            actions << Action::hang();
            break;
        case Step::Kind::HangAfterHeaders:
            actions << Action::begin(200, headers, QByteArrayLiteral("application/json")) << Action::hang();
            break;
        case Step::Kind::DropBeforeFirstToken:
        case Step::Kind::DropAfterTokens:
            actions << Action::abort(pacing.firstTokenDelayMs); // the connection closes without an answer
            break;
        case Step::Kind::InBandErrorBeforeFirstToken:
        case Step::Kind::InBandErrorAfterTokens:
            actions << Action::whole(200, answer.errorJson(step.body), headers, pacing.firstTokenDelayMs);
            break;
        case Step::Kind::RateLimited:
        case Step::Kind::Status:
            break;
        }
        return actions;
    }

    if (step.kind == Step::Kind::Hang)
        return {Action::hang()};
    const QByteArray processing = SimAnswer::commentEvent(QByteArrayLiteral("OPENROUTER PROCESSING"));
    const bool openRouter = dialect == SimulatedProvider::Dialect::OpenRouter;
    actions << Action::begin(200, headers);
    if (openRouter)
        actions << Action::write(processing);
    // Content chunks: the first waits for the first-token delay (OpenRouter keeps the line alive meanwhile).
    auto addContent = [&](int count) {
        for (int i = 0; i < count; ++i) {
            int delay = i == 0 ? pacing.firstTokenDelayMs : pacing.chunkDelayMs;
            if (i == 0 && openRouter && delay > 0) {
                actions << Action::write(processing, delay);
                delay = 0;
            }
            actions << Action::write(answer.contentEvent(i), delay);
        }
    };

    switch (step.kind) {
    case Step::Kind::Ok:
        actions << Action::write(answer.roleEvent());
        addContent(int(answer.pieces().size()));
        for (const QByteArray &event : answer.toolCallEvents())
            actions << Action::write(event);
        actions << Action::write(answer.finishEvent(),
                                 answer.pieces().isEmpty() ? pacing.firstTokenDelayMs : 0);
        if (includeUsage)
            actions << Action::write(answer.usageEvent());
        actions << Action::write(SimAnswer::doneEvent()) << Action::end();
        break;
    case Step::Kind::HangAfterHeaders:
        actions << Action::hang();
        break;
    case Step::Kind::DropBeforeFirstToken:
        actions << Action::write(answer.roleEvent()) << Action::abort(pacing.firstTokenDelayMs);
        break;
    case Step::Kind::DropAfterTokens:
        actions << Action::write(answer.roleEvent());
        addContent(step.tokens);
        actions << Action::abort(pacing.chunkDelayMs);
        break;
    case Step::Kind::InBandErrorBeforeFirstToken:
        actions << Action::write(answer.errorEvent(step.body), pacing.firstTokenDelayMs) << Action::end();
        break;
    case Step::Kind::InBandErrorAfterTokens:
        actions << Action::write(answer.roleEvent());
        addContent(step.tokens);
        actions << Action::write(answer.errorEvent(step.body), pacing.chunkDelayMs) << Action::end();
        break;
    case Step::Kind::Hang:
    case Step::Kind::RateLimited:
    case Step::Kind::Status:
        break;
    }
    return actions;
}

} // namespace SimPlan
