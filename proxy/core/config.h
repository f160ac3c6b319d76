#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

// The configuration model: the reference 429chain YAML schema plus our optional additions.
// Plain values, cheap to copy across threads. ConfigLoader builds it from YAML and validates it.

struct ManualRateLimits
{
    enum class Scope { Model, Provider };

    std::optional<int> requestsPerMinute;
    std::optional<int> requestsPerHour;
    std::optional<int> requestsPerDay;
    std::optional<int> tokensPerMinute;
    std::optional<int> tokensPerDay;
    std::optional<int> concurrentRequests;
    Scope scope = Scope::Model;

    bool isEmpty() const
    {
        return !requestsPerMinute && !requestsPerHour && !requestsPerDay && !tokensPerMinute &&
               !tokensPerDay && !concurrentRequests;
    }
};

struct ProviderConfig
{
    QString id;
    QString name;
    QString type; // one of ProviderKind::knownTypes()
    QString apiKey;
    QString baseUrl; // as written; empty means the type's default
    std::optional<qint64> timeoutMs;
    ManualRateLimits rateLimits;
    bool enabled = true;
    QList<QPair<QByteArray, QByteArray>> headers; // extra headers sent upstream
    int line = 0;                                 // 1-based line in the source file, 0 if unknown
};

struct ChainEntry
{
    QString provider;
    QString model;
    int line = 0;
    // The most output tokens this entry may be asked for: a client's larger max_tokens is clamped to it (and
    // admission reserves the clamped value). Absent: the provider type's default (ProviderKind).
    std::optional<int> maxOutputTokens;
};

struct ChainConfig
{
    QString name;
    QList<ChainEntry> entries;
    int line = 0;
    // This chain's own settings.midStreamContinue; absent: the setting's.
    std::optional<bool> midStreamContinue;
};

struct Settings
{
    int port = 3429;
    QString host = QStringLiteral("127.0.0.1");
    QStringList apiKeys;
    QStringList adminKeys;
    QString defaultChain;
    QString logLevel = QStringLiteral("info");
    qint64 cooldownDefaultMs = 60000;
    qint64 requestTimeoutMs = 30000;
    qint64 streamIdleTimeoutMs = 30000;
    QString dbPath = QStringLiteral("./data/observability.db");
    bool normalizeResponses = false;
    int midStreamFailureThreshold = 3;
    qint64 midStreamCooldownMs = 120000;
    qint64 midStreamCooldownMaxMs = 1800000;
    bool queueMode = false;
    qint64 queueMaxWaitMs = 300000;
    int queueMaxSize = 100;
    QStringList corsOrigins;
    // Host header values (besides loopback names and the address listened on) the server answers to: the
    // DNS-rebinding defence. ".example.com" also matches its subdomains; "*" turns the check off.
    QStringList allowedHosts;
    qint64 maxRequestBytes = 10 * 1024 * 1024;
    int logRetentionDays = 30;
    // A committed stream that breaks (cut, stalled, an error event) is continued by the next entry that can
    // serve, as one uninterrupted answer; false: it ends with an error event, as the reference does.
    bool midStreamContinue = true;
    // Requested model name patterns (globs: `*`, `?`, `[…]`; case-insensitive) and the chain each selects, in
    // the file's order; the first that matches wins. Claude Code's background "haiku" calls to a cheap chain.
    QList<QPair<QString, QString>> modelAliases;
};

struct Config
{
    int version = 1;
    Settings settings;
    QList<ProviderConfig> providers;
    QList<ChainConfig> chains;
    QString sourcePath;           // file it was loaded from, if any
    QHash<QString, int> keyLines; // "settings.defaultChain" -> line, for messages

    const ProviderConfig *provider(const QString &id) const;
    const ChainConfig *chain(const QString &name) const;
    // The chain for a request's `model`: that chain if it names one, else the chain of the first
    // settings.modelAliases pattern it matches, else the default chain.
    const ChainConfig *chainForModel(const QString &model) const;
};
