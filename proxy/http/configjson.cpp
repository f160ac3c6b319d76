#include "configjson.h"

#include "configkeys.h"
#include "providerkind.h"
#include "storageurl.h"

#include <QJsonArray>
#include <QStringList>

#include <cmath>
#include <limits>
#include <type_traits>
#include <variant>

namespace {

const QStringList &kProviderKeys = ConfigKeys::provider();
const QStringList &kLimitKeys = ConfigKeys::rateLimits();
const QStringList &kSettingsKeys = ConfigKeys::settings();

QString maskOf(const QString &secret)
{
    return secret.isEmpty() ? QString() : ConfigJson::maskValue();
}

QJsonArray maskedList(const QStringList &keys)
{
    QJsonArray out;
    for (const QString &key : keys)
        out.append(maskOf(key));
    return out;
}

// Reads typed values out of one JSON object; the first problem wins and names its key with `prefix`.
class Reader
{
public:
    Reader(const QJsonObject &json, QString prefix, QString *error)
        : m_json(json), m_prefix(std::move(prefix)), m_error(error)
    {
    }

    bool ok() const { return m_ok; }
    bool has(const QString &key) const { return m_json.contains(key); }
    bool isNull(const QString &key) const { return m_json.value(key).isNull(); }
    QString path(const QString &key) const { return m_prefix + key; }

    void fail(const QString &message)
    {
        if (m_ok && m_error)
            *m_error = message;
        m_ok = false;
    }

    void rejectUnknown(const QStringList &known)
    {
        QStringList unknown;
        for (const QString &key : m_json.keys()) {
            if (!known.contains(key))
                unknown << path(key);
        }
        if (!unknown.isEmpty())
            fail(ConfigJson::tr("Unknown key(s): %1").arg(unknown.join(QLatin1String(", "))));
    }

    void string(const QString &key, QString &out, bool allowNull = false)
    {
        if (!m_ok || !has(key))
            return;
        const QJsonValue v = m_json.value(key);
        if (allowNull && v.isNull())
            out.clear();
        else if (v.isString())
            out = v.toString();
        else
            fail(ConfigJson::tr("%1 must be a string").arg(path(key)));
    }

    void boolean(const QString &key, bool &out)
    {
        if (!m_ok || !has(key))
            return;
        const QJsonValue v = m_json.value(key);
        if (v.isBool())
            out = v.toBool();
        else
            fail(ConfigJson::tr("%1 must be true or false").arg(path(key)));
    }

    std::optional<qint64> integer(const QString &key, qint64 max)
    {
        const QJsonValue v = m_json.value(key);
        const double d = v.toDouble();
        if (!v.isDouble() || std::floor(d) != d || std::fabs(d) > double(max)) {
            fail(ConfigJson::tr("%1 must be an integer").arg(path(key)));
            return std::nullopt;
        }
        return qint64(d);
    }

    template<typename T> void number(const QString &key, T &out)
    {
        if (!m_ok || !has(key))
            return;
        if (const auto v = integer(key, std::numeric_limits<T>::max()))
            out = T(*v);
    }

    // An integer, or null / absent for "none".
    template<typename T> void optionalNumber(const QString &key, std::optional<T> &out)
    {
        if (!m_ok || !has(key))
            return;
        if (isNull(key)) {
            out.reset();
            return;
        }
        if (const auto v = integer(key, std::numeric_limits<T>::max()))
            out = T(*v);
    }

    // modelAliases: a list of {pattern, chain}, in order (the first match wins).
    void aliasList(const QString &key, QList<QPair<QString, QString>> &out)
    {
        if (!m_ok || !has(key))
            return;
        const QJsonArray list = m_json.value(key).toArray();
        if (!m_json.value(key).isArray()) {
            fail(ConfigJson::tr("%1 must be a list of strings").arg(path(key)));
            return;
        }
        QList<QPair<QString, QString>> aliases;
        for (int i = 0; i < list.size(); ++i) {
            const QJsonObject item = list.at(i).toObject();
            Reader alias(item, path(key) + QStringLiteral("[%1].").arg(i), m_error);
            alias.rejectUnknown({QStringLiteral("pattern"), QStringLiteral("chain")});
            QPair<QString, QString> pair;
            for (const char *required : {"pattern", "chain"}) {
                if (alias.ok() && item.value(QLatin1String(required)).toString().isEmpty())
                    alias.fail(ConfigJson::tr("%1 is required (a non-empty string)")
                                   .arg(alias.path(QLatin1String(required))));
            }
            alias.string(QStringLiteral("pattern"), pair.first);
            alias.string(QStringLiteral("chain"), pair.second);
            if (!alias.ok()) {
                m_ok = false;
                return;
            }
            aliases.append(pair);
        }
        out = aliases;
    }

    // A list of strings; a masked entry takes the value at the same index of `stored`.
    void keyList(const QString &key, QStringList &out, const QStringList &stored)
    {
        if (!m_ok || !has(key))
            return;
        const QJsonValue v = m_json.value(key);
        if (!v.isArray()) {
            fail(ConfigJson::tr("%1 must be a list of strings").arg(path(key)));
            return;
        }
        QStringList list;
        const QJsonArray array = v.toArray();
        for (int i = 0; i < array.size(); ++i) {
            const QString itemPath = path(key) + QStringLiteral("[%1]").arg(i);
            if (!array.at(i).isString()) {
                fail(ConfigJson::tr("%1 must be a string").arg(itemPath));
                return;
            }
            const QString item = array.at(i).toString();
            if (item == ConfigJson::maskValue()) {
                if (i >= stored.size()) {
                    fail(ConfigJson::tr("%1 is masked but there is no stored key at that index")
                             .arg(itemPath));
                    return;
                }
                list << stored.at(i);
            } else {
                list << item;
            }
        }
        out = list;
    }

    QJsonObject object(const QString &key)
    {
        const QJsonValue v = m_json.value(key);
        if (!v.isObject())
            fail(ConfigJson::tr("%1 must be an object").arg(path(key)));
        return v.toObject();
    }

private:
    QJsonObject m_json;
    QString m_prefix;
    QString *m_error;
    bool m_ok = true;
};

QJsonObject limitsToJson(const ManualRateLimits &limits)
{
    QJsonObject out;
    const auto put = [&out](const char *key, const std::optional<int> &value) {
        if (value)
            out.insert(QLatin1String(key), *value);
    };
    put("requestsPerMinute", limits.requestsPerMinute);
    put("requestsPerHour", limits.requestsPerHour);
    put("requestsPerDay", limits.requestsPerDay);
    put("tokensPerMinute", limits.tokensPerMinute);
    put("tokensPerDay", limits.tokensPerDay);
    put("concurrentRequests", limits.concurrentRequests);
    if (limits.scope == ManualRateLimits::Scope::Provider)
        out.insert(QStringLiteral("scope"), QStringLiteral("provider"));
    return out;
}

void readLimits(Reader &parent, const QJsonObject &json, ManualRateLimits &limits, QString *error)
{
    Reader r(json, parent.path(QStringLiteral("rateLimits.")), error);
    r.rejectUnknown(kLimitKeys);
    r.optionalNumber(QStringLiteral("requestsPerMinute"), limits.requestsPerMinute);
    r.optionalNumber(QStringLiteral("requestsPerHour"), limits.requestsPerHour);
    r.optionalNumber(QStringLiteral("requestsPerDay"), limits.requestsPerDay);
    r.optionalNumber(QStringLiteral("tokensPerMinute"), limits.tokensPerMinute);
    r.optionalNumber(QStringLiteral("tokensPerDay"), limits.tokensPerDay);
    r.optionalNumber(QStringLiteral("concurrentRequests"), limits.concurrentRequests);
    QString scope = QStringLiteral("model");
    r.string(QStringLiteral("scope"), scope, true);
    if (r.ok() && scope != QLatin1String("model") && scope != QLatin1String("provider") && !scope.isEmpty())
        r.fail(ConfigJson::tr("%1 must be \"model\" or \"provider\"").arg(r.path(QStringLiteral("scope"))));
    limits.scope = scope == QLatin1String("provider") ? ManualRateLimits::Scope::Provider
                                                      : ManualRateLimits::Scope::Model;
    if (!r.ok())
        parent.fail(*error);
}

void readHeaders(Reader &parent, const QJsonObject &json, const ProviderConfig *existing,
                 ProviderConfig &provider)
{
    provider.headers.clear();
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!it.value().isString()) {
            parent.fail(ConfigJson::tr("%1 must be a string")
                            .arg(parent.path(QStringLiteral("headers.") + it.key())));
            return;
        }
        QByteArray value = it.value().toString().toUtf8();
        if (it.value().toString() == ConfigJson::maskValue()) {
            value.clear();
            bool found = false;
            for (const auto &h : existing ? existing->headers : QList<QPair<QByteArray, QByteArray>>()) {
                if (h.first.compare(it.key().toUtf8(), Qt::CaseInsensitive) == 0) {
                    value = h.second;
                    found = true;
                }
            }
            if (!found) {
                parent.fail(ConfigJson::tr("%1 is masked but the provider has no such stored header")
                                .arg(parent.path(QStringLiteral("headers.") + it.key())));
                return;
            }
        }
        provider.headers.append({it.key().toUtf8(), value});
    }
}

} // namespace

QJsonObject ConfigJson::providerToJson(const ProviderConfig &p)
{
    QJsonObject out{{QStringLiteral("id"), p.id},
                    {QStringLiteral("name"), p.name},
                    {QStringLiteral("type"), p.type},
                    {QStringLiteral("apiKey"), maskValue()}};
    if (!p.baseUrl.isEmpty())
        out.insert(QStringLiteral("baseUrl"), p.baseUrl);
    if (p.timeoutMs)
        out.insert(QStringLiteral("timeout"), *p.timeoutMs);
    if (!p.rateLimits.isEmpty() || p.rateLimits.scope != ManualRateLimits::Scope::Model)
        out.insert(QStringLiteral("rateLimits"), limitsToJson(p.rateLimits));
    out.insert(QStringLiteral("enabled"), p.enabled);
    if (!p.headers.isEmpty()) {
        QJsonObject headers;
        for (const auto &h : p.headers)
            headers.insert(QString::fromUtf8(h.first), maskOf(QString::fromUtf8(h.second)));
        out.insert(QStringLiteral("headers"), headers);
    }
    return out;
}

QJsonObject ConfigJson::chainToJson(const ChainConfig &chain)
{
    QJsonArray entries;
    for (const ChainEntry &e : chain.entries) {
        QJsonObject entry{{QStringLiteral("provider"), e.provider}, {QStringLiteral("model"), e.model}};
        if (e.maxOutputTokens)
            entry.insert(QStringLiteral("maxOutputTokens"), *e.maxOutputTokens);
        entries.append(entry);
    }
    QJsonObject out{{QStringLiteral("name"), chain.name}, {QStringLiteral("entries"), entries}};
    if (chain.midStreamContinue)
        out.insert(QStringLiteral("midStreamContinue"), *chain.midStreamContinue);
    return out;
}

QJsonObject ConfigJson::settingsToJson(const Settings &s)
{
    QJsonObject out;
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        const QString name = QLatin1String(k.name);
        if (k.type == ConfigKeys::Type::SecretList)
            out.insert(name, maskedList(s.*std::get<QStringList Settings::*>(k.member)));
        else if (k.type == ConfigKeys::Type::SecretUrl) // the database URL's password is a secret too
            out.insert(name, StorageUrl::masked(s.*std::get<QString Settings::*>(k.member)));
        else
            out.insert(name, k.jsonValue(s));
    }
    return out;
}

QJsonObject ConfigJson::schemaJson()
{
    return QJsonObject{{QStringLiteral("settings"), ConfigKeys::settingsSchema()},
                       {QStringLiteral("providerTypes"), ProviderKind::typesJson()}};
}

QJsonObject ConfigJson::configToJson(const Config &config)
{
    QJsonArray providers;
    for (const ProviderConfig &p : config.providers)
        providers.append(providerToJson(p));
    QJsonArray chains;
    for (const ChainConfig &c : config.chains)
        chains.append(chainToJson(c));
    return QJsonObject{{QStringLiteral("providers"), providers},
                       {QStringLiteral("chains"), chains},
                       {QStringLiteral("settings"), settingsToJson(config.settings)}};
}

std::optional<ConfigJson::ProviderInput>
ConfigJson::providerFromJson(const QJsonObject &json, const ProviderConfig *existing, QString *error)
{
    ProviderInput input;
    ProviderConfig &p = input.provider;
    Reader r(json, QString(), error);
    r.rejectUnknown(kProviderKeys);
    for (const char *required : {"id", "type"}) {
        if (r.ok() && json.value(QLatin1String(required)).toString().isEmpty())
            r.fail(tr("%1 is required (a non-empty string)").arg(QLatin1String(required)));
    }
    r.string(QStringLiteral("id"), p.id);
    r.string(QStringLiteral("name"), p.name);
    r.string(QStringLiteral("type"), p.type);
    r.string(QStringLiteral("apiKey"), p.apiKey, true);
    r.string(QStringLiteral("baseUrl"), p.baseUrl, true);
    r.optionalNumber(QStringLiteral("timeout"), p.timeoutMs);
    r.boolean(QStringLiteral("enabled"), p.enabled);
    if (r.ok() && r.has(QStringLiteral("rateLimits")) && !r.isNull(QStringLiteral("rateLimits"))) {
        const QJsonObject limits = r.object(QStringLiteral("rateLimits"));
        if (r.ok())
            readLimits(r, limits, p.rateLimits, error);
    }
    if (r.ok() && r.has(QStringLiteral("headers")) && !r.isNull(QStringLiteral("headers"))) {
        const QJsonObject headers = r.object(QStringLiteral("headers"));
        if (r.ok())
            readHeaders(r, headers, existing, p);
    }
    if (!r.ok())
        return std::nullopt;
    if (p.name.isEmpty())
        p.name = p.id;
    input.keepExistingKey = !json.contains(QStringLiteral("apiKey")) || p.apiKey == maskValue();
    if (input.keepExistingKey)
        p.apiKey.clear(); // ProxyService puts the stored key back
    return input;
}

std::optional<ChainConfig> ConfigJson::chainFromJson(const QString &name, const QJsonObject &json,
                                                     QString *error)
{
    Reader r(json, QString(), error);
    r.rejectUnknown(ConfigKeys::chain());
    if (r.ok() && r.has(QStringLiteral("name")) && json.value(QStringLiteral("name")).toString() != name)
        r.fail(tr("Chain name in path must match name in body"));
    const QJsonValue entries = json.value(QStringLiteral("entries"));
    if (r.ok() && (!entries.isArray() || entries.toArray().isEmpty()))
        r.fail(tr("entries must be a list of at least one {provider, model}"));
    ChainConfig chain;
    chain.name = name;
    if (r.ok() && r.has(QStringLiteral("midStreamContinue")) &&
        !r.isNull(QStringLiteral("midStreamContinue"))) {
        bool on = true;
        r.boolean(QStringLiteral("midStreamContinue"), on);
        chain.midStreamContinue = on;
    }
    const QJsonArray list = entries.toArray();
    for (int i = 0; r.ok() && i < list.size(); ++i) {
        const QString path = QStringLiteral("entries[%1]").arg(i);
        if (!list.at(i).isObject()) {
            r.fail(tr("%1 must be an object {provider, model}").arg(path));
            break;
        }
        const QJsonObject item = list.at(i).toObject();
        Reader entry(item, path + QLatin1Char('.'), error);
        entry.rejectUnknown(ConfigKeys::entry());
        ChainEntry e;
        for (const char *required : {"provider", "model"}) {
            if (entry.ok() && item.value(QLatin1String(required)).toString().isEmpty())
                entry.fail(
                    tr("%1 is required (a non-empty string)").arg(entry.path(QLatin1String(required))));
        }
        entry.string(QStringLiteral("provider"), e.provider);
        entry.string(QStringLiteral("model"), e.model);
        entry.optionalNumber(QStringLiteral("maxOutputTokens"), e.maxOutputTokens);
        if (!entry.ok())
            return std::nullopt;
        chain.entries.append(e);
    }
    if (!r.ok())
        return std::nullopt;
    return chain;
}

std::optional<Settings> ConfigJson::settingsFromJson(const QJsonObject &json, const Settings &current,
                                                     QString *error)
{
    Settings s = current;
    Reader r(json, QString(), error);
    r.rejectUnknown(kSettingsKeys);
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        const QString name = QLatin1String(k.name);
        std::visit(
            [&](auto member) {
                using Value = std::decay_t<decltype(s.*member)>;
                if constexpr (std::is_same_v<Value, int> || std::is_same_v<Value, qint64>)
                    r.number(name, s.*member);
                else if constexpr (std::is_same_v<Value, bool>)
                    r.boolean(name, s.*member);
                else if constexpr (std::is_same_v<Value, QString>)
                    r.string(name, s.*member);
                else if constexpr (std::is_same_v<Value, QStringList>)
                    // A masked secret keeps the stored key at its index; other lists have nothing masked.
                    r.keyList(name, s.*member,
                              k.type == ConfigKeys::Type::SecretList ? current.*member : QStringList());
                else
                    r.aliasList(name, s.*member);
            },
            k.member);
    }
    // A masked URL sent back unchanged keeps the stored one, password included.
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        if (k.type != ConfigKeys::Type::SecretUrl)
            continue;
        const auto member = std::get<QString Settings::*>(k.member);
        if (s.*member != current.*member && s.*member == StorageUrl::masked(current.*member))
            s.*member = current.*member;
    }
    if (!r.ok())
        return std::nullopt;
    return s;
}
