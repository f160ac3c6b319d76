#pragma once

#include <QStringList>

// The keys of each config object: the reference schema plus our additions. One list, read by the YAML loader
// (unknown keys are warnings) and by the admin API's JSON conversion (unknown keys are refused).
namespace ConfigKeys {

inline const QStringList &top()
{
    static const QStringList keys{QStringLiteral("version"), QStringLiteral("settings"),
                                  QStringLiteral("providers"), QStringLiteral("chains")};
    return keys;
}

inline const QStringList &settings()
{
    static const QStringList keys{QStringLiteral("port"),
                                  QStringLiteral("host"),
                                  QStringLiteral("apiKeys"),
                                  QStringLiteral("adminKeys"),
                                  QStringLiteral("defaultChain"),
                                  QStringLiteral("logLevel"),
                                  QStringLiteral("cooldownDefaultMs"),
                                  QStringLiteral("requestTimeoutMs"),
                                  QStringLiteral("streamIdleTimeoutMs"),
                                  QStringLiteral("dbPath"),
                                  QStringLiteral("normalizeResponses"),
                                  QStringLiteral("midStreamFailureThreshold"),
                                  QStringLiteral("midStreamCooldownMs"),
                                  QStringLiteral("midStreamCooldownMaxMs"),
                                  QStringLiteral("queueMode"),
                                  QStringLiteral("queueMaxWaitMs"),
                                  QStringLiteral("queueMaxSize"),
                                  QStringLiteral("corsOrigins"),
                                  QStringLiteral("allowedHosts"),
                                  QStringLiteral("modelAliases"),
                                  QStringLiteral("midStreamContinue"),
                                  QStringLiteral("maxRequestBytes"),
                                  QStringLiteral("logRetentionDays"),
                                  QStringLiteral("storage"),
                                  QStringLiteral("replicaName")};
    return keys;
}

inline const QStringList &provider()
{
    static const QStringList keys{
        QStringLiteral("id"),      QStringLiteral("name"),       QStringLiteral("type"),
        QStringLiteral("apiKey"),  QStringLiteral("baseUrl"),    QStringLiteral("timeout"),
        QStringLiteral("enabled"), QStringLiteral("rateLimits"), QStringLiteral("headers")};
    return keys;
}

inline const QStringList &rateLimits()
{
    static const QStringList keys{QStringLiteral("requestsPerMinute"),
                                  QStringLiteral("requestsPerHour"),
                                  QStringLiteral("requestsPerDay"),
                                  QStringLiteral("tokensPerMinute"),
                                  QStringLiteral("tokensPerDay"),
                                  QStringLiteral("concurrentRequests"),
                                  QStringLiteral("scope")};
    return keys;
}

inline const QStringList &chain()
{
    static const QStringList keys{QStringLiteral("name"), QStringLiteral("entries"),
                                  QStringLiteral("midStreamContinue")};
    return keys;
}

inline const QStringList &entry()
{
    static const QStringList keys{QStringLiteral("provider"), QStringLiteral("model"),
                                  QStringLiteral("maxOutputTokens")};
    return keys;
}

} // namespace ConfigKeys
