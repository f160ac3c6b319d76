#include "requestrecord.h"

QString AttemptRecord::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Success:
        return QStringLiteral("success");
    case Outcome::Skipped:
        return QStringLiteral("skipped");
    case Outcome::RateLimited:
        return QStringLiteral("rate_limited");
    case Outcome::ClientError:
        return QStringLiteral("client_error");
    case Outcome::ServerError:
        return QStringLiteral("server_error");
    case Outcome::Timeout:
        return QStringLiteral("timeout");
    case Outcome::NetworkError:
        return QStringLiteral("network_error");
    case Outcome::StreamError:
        return QStringLiteral("stream_error");
    }
    return QString();
}

QString AttemptRecord::describe() const
{
    return provider + QLatin1Char('/') + model + QLatin1String(" (") + reason + QLatin1Char(')');
}
