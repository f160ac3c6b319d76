#include "configkeys.h"

#include "configvalidator.h"

#include <QJsonObject>

#include <limits>

namespace ConfigKeys {

namespace {

constexpr qint64 kNoMaximum = std::numeric_limits<qint64>::max();

SettingKey key(const char *name, Member member, Type type, const char *group, const char *label,
               const char *description)
{
    SettingKey k;
    k.name = name;
    k.member = member;
    k.type = type;
    k.group = group;
    k.label = label;
    k.description = description;
    return k;
}

SettingKey integer(const char *name, Member member, const char *group, const char *label,
                   const char *description, qint64 minimum, qint64 maximum = kNoMaximum)
{
    SettingKey k = key(name, member, Type::Integer, group, label, description);
    k.minimum = minimum;
    k.maximum = maximum;
    return k;
}

SettingKey reference(SettingKey k)
{
    k.reference = true;
    return k;
}

SettingKey restartOnly(SettingKey k)
{
    k.restartOnly = true;
    return k;
}

SettingKey example(SettingKey k, const char *value)
{
    k.example = value;
    return k;
}

QList<SettingKey> buildTable()
{
    // The reference's keys first, in its order, then ours. Restart-only: what the listener (port, host,
    // maxRequestBytes), the request log (dbPath, logRetentionDays) and the logging set-up (logLevel) read
    // once at start.
    return {
        restartOnly(reference(integer(
            "port", &Settings::port, "server", QT_TRANSLATE_NOOP("ConfigKeys", "Port"),
            QT_TRANSLATE_NOOP("ConfigKeys", "Listen port (env PORT and --port override it)"), 1, 65535))),
        restartOnly(key(
            "host", &Settings::host, Type::Word, "server", QT_TRANSLATE_NOOP("ConfigKeys", "Bind address"),
            QT_TRANSLATE_NOOP("ConfigKeys", "Bind address (env HOST, --host): 127.0.0.1 keeps it on this "
                                            "computer, 0.0.0.0 or :: opens it to the network"))),
        example(reference(key(
                    "apiKeys", &Settings::apiKeys, Type::SecretList, "",
                    QT_TRANSLATE_NOOP("ConfigKeys", "API keys"),
                    QT_TRANSLATE_NOOP("ConfigKeys", "Keys clients send as \"Authorization: Bearer <key>\""))),
                "${PROXY_API_KEY:-change-me-to-a-long-random-string}"),
        example(
            key("adminKeys", &Settings::adminKeys, Type::SecretList, "",
                QT_TRANSLATE_NOOP("ConfigKeys", "Admin keys"),
                QT_TRANSLATE_NOOP("ConfigKeys",
                                  "If set, only these keys open the admin API (otherwise any API key does)")),
            "${ADMIN_API_KEY}"),
        example(reference(key("defaultChain", &Settings::defaultChain, Type::ChainName, "routing",
                              QT_TRANSLATE_NOOP("ConfigKeys", "Default chain"),
                              QT_TRANSLATE_NOOP("ConfigKeys",
                                                "Chain used when a request's model is not a chain name"))),
                "default"),
        restartOnly(reference(key("logLevel", &Settings::logLevel, Type::LogLevel, "server",
                                  QT_TRANSLATE_NOOP("ConfigKeys", "Log level"),
                                  QT_TRANSLATE_NOOP("ConfigKeys", "trace, debug, info, warn, error or fatal "
                                                                  "(env LOG_LEVEL overrides it)")))),
        reference(
            integer("cooldownDefaultMs", &Settings::cooldownDefaultMs, "routing",
                    QT_TRANSLATE_NOOP("ConfigKeys", "Default cooldown (ms)"),
                    QT_TRANSLATE_NOOP("ConfigKeys", "Cooldown after a 429 that does not say how long to "
                                                    "wait (ms)"),
                    1000)),
        reference(integer("requestTimeoutMs", &Settings::requestTimeoutMs, "routing",
                          QT_TRANSLATE_NOOP("ConfigKeys", "Request timeout (ms)"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "Upstream timeout per attempt (ms); a provider's "
                                                          "timeout overrides it"),
                          1000)),
        reference(
            integer("streamIdleTimeoutMs", &Settings::streamIdleTimeoutMs, "routing",
                    QT_TRANSLATE_NOOP("ConfigKeys", "Stream idle timeout (ms)"),
                    QT_TRANSLATE_NOOP("ConfigKeys", "Longest silence between streamed chunks before the "
                                                    "stream counts as failed (ms)"),
                    1000)),
        restartOnly(
            reference(key("dbPath", &Settings::dbPath, Type::Text, "server",
                          QT_TRANSLATE_NOOP("ConfigKeys", "Request log database"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "SQLite file of the request log and the usage "
                                                          "statistics")))),
        reference(
            key("normalizeResponses", &Settings::normalizeResponses, Type::Boolean, "routing",
                QT_TRANSLATE_NOOP("ConfigKeys", "Normalize responses"),
                QT_TRANSLATE_NOOP("ConfigKeys", "Move reasoning_content into an empty content (reasoning "
                                                "models such as DeepSeek R1)"))),
        key("midStreamContinue", &Settings::midStreamContinue, Type::Boolean, "midStream",
            QT_TRANSLATE_NOOP("ConfigKeys", "Continue a broken stream"),
            QT_TRANSLATE_NOOP("ConfigKeys",
                              "A stream that breaks after its first token is continued by the next "
                              "entry as one answer; false ends it with an error event (a chain's "
                              "own midStreamContinue wins)")),
        reference(
            integer("midStreamFailureThreshold", &Settings::midStreamFailureThreshold, "midStream",
                    QT_TRANSLATE_NOOP("ConfigKeys", "Failures before a cooldown"),
                    QT_TRANSLATE_NOOP("ConfigKeys", "Consecutive mid-stream failures before an entry is "
                                                    "cooled down"),
                    1)),
        reference(integer("midStreamCooldownMs", &Settings::midStreamCooldownMs, "midStream",
                          QT_TRANSLATE_NOOP("ConfigKeys", "First cooldown (ms)"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "First mid-stream cooldown (ms); doubles on each "
                                                          "repeat"),
                          1000)),
        reference(integer("midStreamCooldownMaxMs", &Settings::midStreamCooldownMaxMs, "midStream",
                          QT_TRANSLATE_NOOP("ConfigKeys", "Longest cooldown (ms)"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "Upper bound of the mid-stream cooldown (ms)"),
                          1000)),
        reference(
            key("queueMode", &Settings::queueMode, Type::Boolean, "queue",
                QT_TRANSLATE_NOOP("ConfigKeys", "Queue requests when a chain is exhausted"),
                QT_TRANSLATE_NOOP("ConfigKeys", "Hold requests while a whole chain is exhausted instead "
                                                "of answering 429"))),
        reference(integer("queueMaxWaitMs", &Settings::queueMaxWaitMs, "queue",
                          QT_TRANSLATE_NOOP("ConfigKeys", "Longest wait (ms)"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "Longest a queued request waits (ms)"), 1000)),
        reference(integer("queueMaxSize", &Settings::queueMaxSize, "queue",
                          QT_TRANSLATE_NOOP("ConfigKeys", "Queue size per chain"),
                          QT_TRANSLATE_NOOP("ConfigKeys", "Queued requests per chain"), 1)),
        example(
            key("corsOrigins", &Settings::corsOrigins, Type::List, "server",
                QT_TRANSLATE_NOOP("ConfigKeys", "CORS origins (one per line)"),
                QT_TRANSLATE_NOOP("ConfigKeys", "Browser origins allowed to call the API (\"*\" or http(s) "
                                                "origins; none by default)")),
            "http://localhost:5173"),
        example(key("allowedHosts", &Settings::allowedHosts, Type::List, "server",
                    QT_TRANSLATE_NOOP("ConfigKeys", "Extra host names (one per line)"),
                    QT_TRANSLATE_NOOP("ConfigKeys",
                                      "Host names it answers to besides IP addresses and localhost "
                                      "(DNS-rebinding defence): \".example.com\" covers subdomains, "
                                      "\"*\" turns the check off")),
                "proxy.example.com"),
        restartOnly(integer("maxRequestBytes", &Settings::maxRequestBytes, "server",
                            QT_TRANSLATE_NOOP("ConfigKeys", "Largest request body (bytes)"),
                            QT_TRANSLATE_NOOP("ConfigKeys", "Largest accepted request body (bytes)"), 1024)),
        restartOnly(integer("logRetentionDays", &Settings::logRetentionDays, "server",
                            QT_TRANSLATE_NOOP("ConfigKeys", "Keep the request log (days)"),
                            QT_TRANSLATE_NOOP("ConfigKeys", "Request log entries older than this are pruned "
                                                            "(days)"),
                            1)),
        // Read by every request (Config::chainForModel), so it applies at once. Edited in the file or through
        // the admin API; no form shows it.
        example(
            key("modelAliases", &Settings::modelAliases, Type::AliasMap, "",
                QT_TRANSLATE_NOOP("ConfigKeys", "Model aliases"),
                QT_TRANSLATE_NOOP("ConfigKeys", "Model name patterns (case-insensitive globs) and the chain "
                                                "each selects, in order; the first match wins")),
            "\"*haiku*\": fast"),
        // Read once at start: the request log's store and the name in its rows.
        restartOnly(
            key("storage", &Settings::storage, Type::SecretUrl, "server",
                QT_TRANSLATE_NOOP("ConfigKeys", "Shared storage"),
                QT_TRANSLATE_NOOP("ConfigKeys",
                                  "\"sqlite\" (the dbPath file) or postgresql://user:password@host:port/db "
                                  "for several replicas on one database (DATABASE_URL overrides)"))),
        restartOnly(
            key("replicaName", &Settings::replicaName, Type::Text, "server",
                QT_TRANSLATE_NOOP("ConfigKeys", "Replica name"),
                QT_TRANSLATE_NOOP("ConfigKeys",
                                  "This replica's name in each request row; empty: host name and port "
                                  "(CHAIN_REPLICA_NAME overrides)"))),
    };
}

QString typeName(Type type)
{
    switch (type) {
    case Type::Integer:
        return QStringLiteral("integer");
    case Type::Boolean:
        return QStringLiteral("boolean");
    case Type::Text:
    case Type::Word:
    case Type::SecretUrl:
        return QStringLiteral("string");
    case Type::LogLevel:
        return QStringLiteral("logLevel");
    case Type::ChainName:
        return QStringLiteral("chain");
    case Type::List:
        return QStringLiteral("list");
    case Type::SecretList:
        return QStringLiteral("secretList");
    case Type::AliasMap:
        return QStringLiteral("aliases");
    }
    return QString();
}

QJsonValue toJson(int value)
{
    return value;
}
QJsonValue toJson(qint64 value)
{
    return value;
}
QJsonValue toJson(bool value)
{
    return value;
}
QJsonValue toJson(const QString &value)
{
    return value;
}
QJsonValue toJson(const QStringList &value)
{
    return QJsonArray::fromStringList(value);
}
QJsonValue toJson(const Aliases &aliases)
{
    QJsonArray out;
    for (const auto &[pattern, chain] : aliases)
        out.append(QJsonObject{{QStringLiteral("pattern"), pattern}, {QStringLiteral("chain"), chain}});
    return out;
}

} // namespace

QJsonValue SettingKey::jsonValue(const Settings &settings) const
{
    return std::visit([&](auto m) { return toJson(settings.*m); }, member);
}

qint64 SettingKey::integer(const Settings &settings) const
{
    if (const auto *m = std::get_if<int Settings::*>(&member))
        return settings.**m;
    if (const auto *m = std::get_if<qint64 Settings::*>(&member))
        return settings.**m;
    return 0;
}

bool SettingKey::equal(const Settings &a, const Settings &b) const
{
    return std::visit([&](auto m) { return a.*m == b.*m; }, member);
}

void SettingKey::copy(const Settings &from, Settings &to) const
{
    std::visit([&](auto m) { to.*m = from.*m; }, member);
}

const QList<SettingKey> &settingsTable()
{
    static const QList<SettingKey> table = buildTable();
    return table;
}

const SettingKey *setting(const QString &name)
{
    for (const SettingKey &k : settingsTable()) {
        if (name == QLatin1String(k.name))
            return &k;
    }
    return nullptr;
}

QStringList changedRestartSettings(const Settings &a, const Settings &b)
{
    QStringList changed;
    for (const SettingKey &k : settingsTable()) {
        if (k.restartOnly && !k.equal(a, b))
            changed << k.path();
    }
    return changed;
}

QStringList changedSettings(const Settings &a, const Settings &b)
{
    QStringList changed;
    for (const SettingKey &k : settingsTable()) {
        if (!k.equal(a, b))
            changed << QLatin1String(k.name);
    }
    return changed;
}

QJsonArray settingsSchema()
{
    const Settings defaults;
    QJsonArray out;
    for (const SettingKey &k : settingsTable()) {
        QJsonObject row{{QStringLiteral("name"), QLatin1String(k.name)},
                        {QStringLiteral("type"), typeName(k.type)},
                        {QStringLiteral("default"),
                         k.type == Type::SecretList ? QJsonValue(QJsonArray()) : k.jsonValue(defaults)},
                        {QStringLiteral("restartOnly"), k.restartOnly},
                        {QStringLiteral("group"), QLatin1String(k.group)},
                        {QStringLiteral("label"), QString::fromUtf8(k.label)},
                        {QStringLiteral("description"), QString::fromUtf8(k.description)}};
        if (k.isInteger()) {
            row.insert(QStringLiteral("minimum"), k.minimum);
            if (k.maximum != kNoMaximum)
                row.insert(QStringLiteral("maximum"), k.maximum);
        }
        if (k.type == Type::LogLevel)
            row.insert(QStringLiteral("choices"), QJsonArray::fromStringList(ConfigValidator::logLevels()));
        out.append(row);
    }
    return out;
}

const QStringList &top()
{
    static const QStringList keys{QStringLiteral("version"), QStringLiteral("settings"),
                                  QStringLiteral("providers"), QStringLiteral("chains")};
    return keys;
}

const QStringList &settings()
{
    static const QStringList keys = [] {
        QStringList names;
        for (const SettingKey &k : settingsTable())
            names << QLatin1String(k.name);
        return names;
    }();
    return keys;
}

const QStringList &provider()
{
    static const QStringList keys{
        QStringLiteral("id"),      QStringLiteral("name"),       QStringLiteral("type"),
        QStringLiteral("apiKey"),  QStringLiteral("baseUrl"),    QStringLiteral("timeout"),
        QStringLiteral("enabled"), QStringLiteral("rateLimits"), QStringLiteral("headers")};
    return keys;
}

const QStringList &rateLimits()
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

const QStringList &chain()
{
    static const QStringList keys{QStringLiteral("name"), QStringLiteral("entries"),
                                  QStringLiteral("midStreamContinue")};
    return keys;
}

const QStringList &entry()
{
    static const QStringList keys{QStringLiteral("provider"), QStringLiteral("model"),
                                  QStringLiteral("maxOutputTokens")};
    return keys;
}

} // namespace ConfigKeys
