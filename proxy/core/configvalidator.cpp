#include "configvalidator.h"

#include "configkeys.h"
#include "providerkind.h"
#include "storageurl.h"

#include <QHostAddress>
#include <QSet>
#include <QUrl>

#include <algorithm>
#include <limits>

namespace {

QString quoted(const QString &value)
{
    return QLatin1Char('"') + value + QLatin1Char('"');
}

// Collects issues, finding each key's line in Config::keyLines or falling back to the enclosing item's line.
class IssueCollector
{
public:
    explicit IssueCollector(const Config &config) : m_config(config) {}

    void add(const QString &path, const QString &message, int fallbackLine = 0)
    {
        ConfigIssue issue;
        issue.path = path;
        issue.line = m_config.keyLines.value(path, fallbackLine);
        if (issue.line == 0 && fallbackLine == 0)
            issue.line = m_config.keyLines.value(parentPath(path));
        issue.message = message;
        m_issues << issue;
    }

    void checkRange(const QString &path, qint64 value, qint64 min,
                    qint64 max = std::numeric_limits<qint64>::max(), int fallbackLine = 0)
    {
        if (value >= min && value <= max)
            return;
        if (max == std::numeric_limits<qint64>::max())
            add(path, ConfigValidator::tr("must be at least %1 (got %2)").arg(min).arg(value), fallbackLine);
        else
            add(path, ConfigValidator::tr("must be between %1 and %2 (got %3)").arg(min).arg(max).arg(value),
                fallbackLine);
    }

    QList<ConfigIssue> issues() const { return m_issues; }

private:
    // "settings.port" -> "settings", "providers[1].id" -> "providers[1]"
    static QString parentPath(const QString &path)
    {
        const int cut = std::max(path.lastIndexOf(QLatin1Char('.')), path.lastIndexOf(QLatin1Char('[')));
        return cut > 0 ? path.left(cut) : QString();
    }

    const Config &m_config;
    QList<ConfigIssue> m_issues;
};

void checkKeyList(IssueCollector &out, const QString &path, const QStringList &keys)
{
    for (int i = 0; i < keys.size(); ++i) {
        if (keys.at(i).trimmed().isEmpty())
            out.add(path + QStringLiteral("[%1]").arg(i), ConfigValidator::tr("must not be empty"));
    }
}

void checkSettings(IssueCollector &out, const Config &config)
{
    const Settings &s = config.settings;
    // The integers' ranges are the key table's.
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        if (k.isInteger())
            out.checkRange(k.path(), k.integer(s), k.minimum, k.maximum);
    }
    if (!ConfigValidator::isValidHost(s.host)) {
        out.add(QStringLiteral("settings.host"),
                ConfigValidator::tr("%1 is not an IP address or \"localhost\"").arg(quoted(s.host)));
    }
    if (s.apiKeys.isEmpty())
        out.add(QStringLiteral("settings.apiKeys"), ConfigValidator::tr("at least one API key is required"));
    checkKeyList(out, QStringLiteral("settings.apiKeys"), s.apiKeys);
    checkKeyList(out, QStringLiteral("settings.adminKeys"), s.adminKeys);
    if (s.defaultChain.isEmpty()) {
        out.add(QStringLiteral("settings.defaultChain"),
                ConfigValidator::tr("is required (the name of a chain)"));
    } else if (!config.chain(s.defaultChain)) {
        out.add(QStringLiteral("settings.defaultChain"),
                ConfigValidator::tr("%1 is not the name of a chain").arg(quoted(s.defaultChain)));
    }
    if (!ConfigValidator::isValidLogLevel(s.logLevel)) {
        out.add(QStringLiteral("settings.logLevel"),
                ConfigValidator::tr("%1 is not one of %2")
                    .arg(quoted(s.logLevel), ConfigValidator::logLevels().join(QLatin1String(", "))));
    }
    if (s.dbPath.trimmed().isEmpty())
        out.add(QStringLiteral("settings.dbPath"), ConfigValidator::tr("must not be empty"));
    for (int i = 0; i < s.corsOrigins.size(); ++i) {
        const QString &origin = s.corsOrigins.at(i);
        if (origin != QLatin1String("*") && !ConfigValidator::isValidHttpUrl(origin)) {
            out.add(QStringLiteral("settings.corsOrigins[%1]").arg(i),
                    ConfigValidator::tr("%1 is neither \"*\" nor an http(s) origin").arg(quoted(origin)));
        }
    }
    for (const auto &[pattern, chain] : s.modelAliases) {
        if (!config.chain(chain)) {
            out.add(QStringLiteral("settings.modelAliases.") + pattern,
                    ConfigValidator::tr("%1 is not the name of a chain").arg(quoted(chain)));
        }
    }
    for (int i = 0; i < s.allowedHosts.size(); ++i) {
        const QString &host = s.allowedHosts.at(i);
        if (host != QLatin1String("*") && !ConfigValidator::isValidHostPattern(host)) {
            out.add(
                QStringLiteral("settings.allowedHosts[%1]").arg(i),
                ConfigValidator::tr("%1 is not a host name (\"api.example.com\", \".example.com\" for its "
                                    "subdomains too), an IP address or \"*\"")
                    .arg(quoted(host)));
        }
    }
    if (!s.host.isEmpty() && ConfigValidator::isValidHost(s.host) &&
        !ConfigValidator::isLoopbackHost(s.host) && s.apiKeys.isEmpty()) {
        out.add(QStringLiteral("settings.host"),
                ConfigValidator::tr("%1 is reachable from other machines; it needs settings.apiKeys "
                                    "(refusing to serve without keys)")
                    .arg(quoted(s.host)));
    }
    QString storageError;
    if (!StorageUrl::parse(s.storage, &storageError))
        out.add(QStringLiteral("settings.storage"), storageError);
    if (s.replicaName.size() > 200)
        out.add(QStringLiteral("settings.replicaName"),
                ConfigValidator::tr("must be at most 200 characters"));
}

bool isHeaderNameChar(char c)
{
    // RFC 9110 token characters.
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayLiteral("!#$%&'*+-.^_`|~").contains(c);
}

void checkHeaders(IssueCollector &out, const QString &base, const ProviderConfig &p)
{
    for (const auto &[name, value] : p.headers) {
        const QString path = base + QStringLiteral(".headers.") + QString::fromUtf8(name);
        const bool nameOk = !name.isEmpty() && std::all_of(name.begin(), name.end(), isHeaderNameChar);
        if (!nameOk)
            out.add(path, ConfigValidator::tr("is not a valid HTTP header name"), p.line);
        if (value.contains('\r') || value.contains('\n'))
            out.add(path, ConfigValidator::tr("header values must not contain line breaks"), p.line);
    }
}

void checkRateLimits(IssueCollector &out, const QString &base, const ProviderConfig &p)
{
    const ManualRateLimits &r = p.rateLimits;
    const std::pair<const char *, const std::optional<int> *> limits[] = {
        {"requestsPerMinute", &r.requestsPerMinute}, {"requestsPerHour", &r.requestsPerHour},
        {"requestsPerDay", &r.requestsPerDay},       {"tokensPerMinute", &r.tokensPerMinute},
        {"tokensPerDay", &r.tokensPerDay},           {"concurrentRequests", &r.concurrentRequests},
    };
    for (const auto &[key, value] : limits) {
        if (*value && **value < 1) {
            out.add(base + QStringLiteral(".rateLimits.") + QLatin1String(key),
                    ConfigValidator::tr("must be a positive integer (got %1)").arg(**value), p.line);
        }
    }
}

void checkProviders(IssueCollector &out, const Config &config)
{
    if (config.providers.isEmpty()) {
        out.add(QStringLiteral("providers"), ConfigValidator::tr("at least one provider is required"),
                config.keyLines.value(QStringLiteral("version")));
    }
    QSet<QString> seen;
    for (int i = 0; i < config.providers.size(); ++i) {
        const ProviderConfig &p = config.providers.at(i);
        const QString base = QStringLiteral("providers[%1]").arg(i);
        if (p.id.trimmed().isEmpty()) {
            out.add(base + QStringLiteral(".id"), ConfigValidator::tr("is required and must not be empty"),
                    p.line);
        } else if (seen.contains(p.id)) {
            out.add(base + QStringLiteral(".id"),
                    ConfigValidator::tr("duplicate provider id %1").arg(quoted(p.id)), p.line);
        }
        seen.insert(p.id);
        if (p.name.trimmed().isEmpty())
            out.add(base + QStringLiteral(".name"), ConfigValidator::tr("is required and must not be empty"),
                    p.line);
        if (!ProviderKind::isKnownType(p.type)) {
            out.add(base + QStringLiteral(".type"),
                    ConfigValidator::tr("unknown provider type %1 (known: %2)")
                        .arg(quoted(p.type), ProviderKind::knownTypes().join(QLatin1String(", "))),
                    p.line);
        }
        if (!p.baseUrl.isEmpty()) {
            if (!ConfigValidator::isValidHttpUrl(p.baseUrl)) {
                out.add(base + QStringLiteral(".baseUrl"),
                        ConfigValidator::tr("%1 is not a valid http(s) URL").arg(quoted(p.baseUrl)), p.line);
            }
        } else if (ProviderKind::isKnownType(p.type) && ProviderKind::requiresBaseUrl(p.type)) {
            out.add(base + QStringLiteral(".baseUrl"),
                    ConfigValidator::tr("is required for type %1").arg(quoted(p.type)), p.line);
        }
        if (p.timeoutMs)
            out.checkRange(base + QStringLiteral(".timeout"), *p.timeoutMs, 1000,
                           std::numeric_limits<qint64>::max(), p.line);
        checkRateLimits(out, base, p);
        checkHeaders(out, base, p);
    }
}

void checkChains(IssueCollector &out, const Config &config)
{
    if (config.chains.isEmpty()) {
        out.add(QStringLiteral("chains"), ConfigValidator::tr("at least one chain is required"),
                config.keyLines.value(QStringLiteral("version")));
    }
    QSet<QString> seen;
    for (int i = 0; i < config.chains.size(); ++i) {
        const ChainConfig &c = config.chains.at(i);
        const QString base = QStringLiteral("chains[%1]").arg(i);
        if (c.name.trimmed().isEmpty()) {
            out.add(base + QStringLiteral(".name"), ConfigValidator::tr("is required and must not be empty"),
                    c.line);
        } else if (seen.contains(c.name)) {
            out.add(base + QStringLiteral(".name"),
                    ConfigValidator::tr("duplicate chain name %1").arg(quoted(c.name)), c.line);
        }
        seen.insert(c.name);
        if (c.entries.isEmpty()) {
            out.add(base + QStringLiteral(".entries"), ConfigValidator::tr("at least one entry is required"),
                    c.line);
        }
        for (int j = 0; j < c.entries.size(); ++j) {
            const ChainEntry &e = c.entries.at(j);
            const QString entryBase = base + QStringLiteral(".entries[%1]").arg(j);
            const int line = e.line ? e.line : c.line;
            if (e.provider.trimmed().isEmpty()) {
                out.add(entryBase + QStringLiteral(".provider"),
                        ConfigValidator::tr("is required and must not be empty"), line);
            } else if (!config.provider(e.provider)) {
                out.add(entryBase + QStringLiteral(".provider"),
                        ConfigValidator::tr("%1 is not the id of a provider").arg(quoted(e.provider)), line);
            }
            if (e.model.trimmed().isEmpty()) {
                out.add(entryBase + QStringLiteral(".model"),
                        ConfigValidator::tr("is required and must not be empty"), line);
            }
            if (e.maxOutputTokens && *e.maxOutputTokens < 1) {
                out.add(entryBase + QStringLiteral(".maxOutputTokens"),
                        ConfigValidator::tr("must be a positive integer (got %1)").arg(*e.maxOutputTokens),
                        line);
            }
        }
    }
}

} // namespace

QString ConfigIssue::format(const QString &sourceName) const
{
    QString where;
    if (line > 0) {
        where = sourceName.isEmpty() ? QString::number(line)
                                     : sourceName + QLatin1Char(':') + QString::number(line);
        if (column > 0)
            where += QLatin1Char(':') + QString::number(column);
    } else {
        where = sourceName;
    }
    QString text;
    if (!where.isEmpty())
        text = where + QLatin1String(": ");
    if (!path.isEmpty())
        text += path + QLatin1String(": ");
    return text + message;
}

QList<ConfigIssue> ConfigValidator::check(const Config &config)
{
    IssueCollector out(config);
    if (config.version != 1)
        out.add(QStringLiteral("version"), tr("must be 1 (got %1)").arg(config.version));
    checkSettings(out, config);
    checkProviders(out, config);
    checkChains(out, config);
    return out.issues();
}

QStringList ConfigValidator::logLevels()
{
    return {QStringLiteral("trace"), QStringLiteral("debug"), QStringLiteral("info"),
            QStringLiteral("warn"),  QStringLiteral("error"), QStringLiteral("fatal")};
}

bool ConfigValidator::isValidLogLevel(const QString &level)
{
    return logLevels().contains(level);
}

bool ConfigValidator::isValidHost(const QString &host)
{
    if (host == QLatin1String("localhost"))
        return true;
    QHostAddress address;
    return address.setAddress(host);
}

bool ConfigValidator::isLoopbackHost(const QString &host)
{
    if (host == QLatin1String("localhost"))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

bool ConfigValidator::isValidHostPattern(const QString &pattern)
{
    QString name = pattern.startsWith(QLatin1Char('.')) ? pattern.mid(1) : pattern;
    if (name.startsWith(QLatin1Char('[')) && name.endsWith(QLatin1Char(']')))
        return !pattern.startsWith(QLatin1Char('.')) && !QHostAddress(name.mid(1, name.size() - 2)).isNull();
    if (!QHostAddress(name).isNull())
        return !pattern.startsWith(QLatin1Char('.'));
    if (name.isEmpty() || name.size() > 253)
        return false;
    for (const QString &label : name.split(QLatin1Char('.'))) {
        if (label.isEmpty() || label.size() > 63 || label.startsWith(QLatin1Char('-')) ||
            label.endsWith(QLatin1Char('-')))
            return false;
        for (const QChar c : label) {
            if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != QLatin1Char('-') &&
                c != QLatin1Char('_'))
                return false;
        }
    }
    return true;
}

bool ConfigValidator::isValidHttpUrl(const QString &url)
{
    const QUrl parsed(url, QUrl::StrictMode);
    const QString scheme = parsed.scheme();
    return parsed.isValid() && (scheme == QLatin1String("http") || scheme == QLatin1String("https")) &&
           !parsed.host().isEmpty();
}
