#include "configyamlreader.h"

#include "configkeys.h"

#include <QHash>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <variant>

namespace {

struct Field
{
    YAML::Node key;
    YAML::Node value;
};
using Fields = QHash<QString, Field>;

const QStringList &kTopKeys = ConfigKeys::top();
const QStringList &kSettingsKeys = ConfigKeys::settings();
const QStringList &kProviderKeys = ConfigKeys::provider();
const QStringList &kRateLimitKeys = ConfigKeys::rateLimits();
const QStringList &kChainKeys = ConfigKeys::chain();
const QStringList &kEntryKeys = ConfigKeys::entry();

constexpr qint64 kIntMax = std::numeric_limits<int>::max();
constexpr qint64 kInt64Max = std::numeric_limits<qint64>::max();

int line1(const YAML::Mark &mark)
{
    return mark.line >= 0 ? mark.line + 1 : 0;
}

int column1(const YAML::Mark &mark)
{
    return mark.column >= 0 ? mark.column + 1 : 0;
}

QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

QString indexed(const QString &path, int i)
{
    return path + QStringLiteral("[%1]").arg(i);
}

QString quoted(const QString &value)
{
    return QLatin1Char('"') + value + QLatin1Char('"');
}

// Plain YAML scalars carry the non-specific tag "?", quoted ones "!".
bool isQuoted(const YAML::Node &node)
{
    return node.Tag() == "!";
}

QString describe(const YAML::Node &node)
{
    switch (node.Type()) {
    case YAML::NodeType::Sequence:
        return ConfigYamlReader::tr("a list");
    case YAML::NodeType::Map:
        return ConfigYamlReader::tr("a map");
    case YAML::NodeType::Scalar:
        return isQuoted(node)
                   ? ConfigYamlReader::tr("the string %1").arg(quoted(QString::fromStdString(node.Scalar())))
                   : quoted(QString::fromStdString(node.Scalar()));
    default:
        return ConfigYamlReader::tr("nothing");
    }
}

int editDistance(const QString &a, const QString &b)
{
    QList<int> row(b.size() + 1);
    for (int j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (int i = 1; i <= a.size(); ++i) {
        int diagonal = row[0];
        row[0] = i;
        for (int j = 1; j <= b.size(); ++j) {
            const int above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a.at(i - 1) == b.at(j - 1) ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The known key a typo most likely meant, or empty.
QString suggestion(const QString &key, const QStringList &known)
{
    QString best;
    int bestDistance = 3;
    for (const QString &candidate : known) {
        const int distance = editDistance(key.toLower(), candidate.toLower());
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}

class Reader
{
public:
    explicit Reader(const EnvExpander::Lookup &env) : m_env(env) {}

    ConfigYamlReader::Result run(const QByteArray &yaml);

private:
    YAML::Mark markOf(const YAML::Node &node) const;
    void error(const YAML::Node &at, const QString &path, const QString &message);
    std::optional<Fields> openMap(const YAML::Node &node, const QString &path, const QStringList &known);
    std::optional<QString> scalarText(const YAML::Node &node, const QString &path);
    std::optional<QString> string(const Fields &fields, const QString &key, const QString &path);
    std::optional<qint64> integer(const Fields &fields, const QString &key, const QString &path, qint64 max);
    std::optional<bool> boolean(const Fields &fields, const QString &key, const QString &path);
    std::optional<QStringList> stringList(const Fields &fields, const QString &key, const QString &path);
    // The items of a list (an absent or empty value is an empty list), or nullopt after an error.
    std::optional<QList<YAML::Node>> sequence(const Fields &fields, const QString &key, const QString &path);

    void readSettings(const YAML::Node &node);
    ProviderConfig readProvider(const YAML::Node &node, const QString &path);
    void readRateLimits(const YAML::Node &node, const QString &path, ManualRateLimits &limits);
    void readHeaders(const YAML::Node &node, const QString &path, ProviderConfig &provider);
    // A map of strings in the file's order (headers, modelAliases); null values are empty strings.
    QList<QPair<QString, QString>> orderedMap(const YAML::Node &node, const QString &path);
    ChainConfig readChain(const YAML::Node &node, const QString &path);

    template<typename T> static void assign(T &target, const std::optional<qint64> &value)
    {
        if (value)
            target = static_cast<T>(*value);
    }

    EnvExpander::Lookup m_env;
    QByteArray m_text;
    Config m_config;
    ConfigYamlReader::Result m_result;
};

YAML::Mark Reader::markOf(const YAML::Node &node) const
{
    YAML::Mark mark = node.Mark();
    if (!node.IsNull() || mark.pos <= 0 || mark.pos > m_text.size())
        return mark;
    // yaml-cpp places an empty value at the next token; point at the "-" or ":" that introduced it instead.
    int pos = mark.pos - 1;
    while (pos >= 0 && (m_text.at(pos) == ' ' || m_text.at(pos) == '\t' || m_text.at(pos) == '\n' ||
                        m_text.at(pos) == '\r'))
        --pos;
    if (pos < 0 || (m_text.at(pos) != '-' && m_text.at(pos) != ':'))
        return mark;
    mark.pos = pos;
    mark.line = int(m_text.left(pos).count('\n'));
    mark.column = int(pos - (m_text.lastIndexOf('\n', pos) + 1));
    return mark;
}

void Reader::error(const YAML::Node &at, const QString &path, const QString &message)
{
    ConfigIssue issue;
    issue.path = path;
    if (at.IsDefined()) {
        const YAML::Mark mark = markOf(at);
        issue.line = line1(mark);
        issue.column = column1(mark);
    }
    issue.message = message;
    m_result.errors << issue;
    m_result.errorPaths << path;
}

std::optional<Fields> Reader::openMap(const YAML::Node &node, const QString &path, const QStringList &known)
{
    if (!node.IsDefined() || node.IsNull())
        return Fields();
    if (!node.IsMap()) {
        error(node, path, ConfigYamlReader::tr("expected a map of keys, got %1").arg(describe(node)));
        return std::nullopt;
    }
    Fields fields;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar()) {
            error(key, path, ConfigYamlReader::tr("keys must be plain names, got %1").arg(describe(key)));
            continue;
        }
        const QString name = QString::fromStdString(key.Scalar());
        const QString keyPath = join(path, name);
        if (fields.contains(name)) {
            error(key, keyPath,
                  ConfigYamlReader::tr("duplicate key (first given on line %1)")
                      .arg(line1(fields.value(name).key.Mark())));
            continue;
        }
        if (!known.isEmpty() && !known.contains(name)) {
            const QString guess = suggestion(name, known);
            ConfigIssue issue{
                keyPath, line1(key.Mark()), column1(key.Mark()),
                guess.isEmpty()
                    ? ConfigYamlReader::tr("unknown key, ignored")
                    : ConfigYamlReader::tr("unknown key, ignored (did you mean %1?)").arg(quoted(guess))};
            m_result.warnings << issue;
            continue;
        }
        fields.insert(name, Field{key, it->second});
        m_config.keyLines.insert(keyPath, line1(key.Mark()));
    }
    return fields;
}

std::optional<QString> Reader::scalarText(const YAML::Node &node, const QString &path)
{
    if (!node.IsScalar()) {
        error(node, path, ConfigYamlReader::tr("expected a string, got %1").arg(describe(node)));
        return std::nullopt;
    }
    const EnvExpander::Result expanded = EnvExpander::expand(QString::fromStdString(node.Scalar()), m_env);
    for (const QString &message : expanded.errors)
        error(node, path, message);
    if (!expanded.ok())
        return std::nullopt;
    return expanded.value;
}

std::optional<QString> Reader::string(const Fields &fields, const QString &key, const QString &path)
{
    const auto it = fields.constFind(key);
    if (it == fields.cend() || it->value.IsNull())
        return std::nullopt;
    return scalarText(it->value, join(path, key));
}

std::optional<qint64> Reader::integer(const Fields &fields, const QString &key, const QString &path,
                                      qint64 max)
{
    const auto it = fields.constFind(key);
    if (it == fields.cend() || it->value.IsNull())
        return std::nullopt;
    const YAML::Node &node = it->value;
    const QString keyPath = join(path, key);
    if (!node.IsScalar() || isQuoted(node)) {
        error(node, keyPath, ConfigYamlReader::tr("expected an integer, got %1").arg(describe(node)));
        return std::nullopt;
    }
    const std::optional<QString> text = scalarText(node, keyPath);
    if (!text)
        return std::nullopt;
    bool ok = false;
    const qint64 value = text->trimmed().toLongLong(&ok);
    if (!ok) {
        error(node, keyPath, ConfigYamlReader::tr("expected an integer, got %1").arg(quoted(*text)));
        return std::nullopt;
    }
    if (value > max || value < -max) {
        error(node, keyPath, ConfigYamlReader::tr("%1 is out of range").arg(value));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> Reader::boolean(const Fields &fields, const QString &key, const QString &path)
{
    const auto it = fields.constFind(key);
    if (it == fields.cend() || it->value.IsNull())
        return std::nullopt;
    const YAML::Node &node = it->value;
    const QString keyPath = join(path, key);
    if (node.IsScalar() && !isQuoted(node)) {
        const std::optional<QString> text = scalarText(node, keyPath);
        if (!text)
            return std::nullopt;
        const QString lower = text->trimmed().toLower();
        if (lower == QLatin1String("true"))
            return true;
        if (lower == QLatin1String("false"))
            return false;
    }
    error(node, keyPath, ConfigYamlReader::tr("expected true or false, got %1").arg(describe(node)));
    return std::nullopt;
}

std::optional<QList<YAML::Node>> Reader::sequence(const Fields &fields, const QString &key,
                                                  const QString &path)
{
    const auto it = fields.constFind(key);
    if (it == fields.cend() || it->value.IsNull())
        return QList<YAML::Node>();
    const YAML::Node &node = it->value;
    if (!node.IsSequence()) {
        error(node, join(path, key), ConfigYamlReader::tr("expected a list, got %1").arg(describe(node)));
        return std::nullopt;
    }
    QList<YAML::Node> items;
    for (std::size_t i = 0; i < node.size(); ++i) {
        const YAML::Node item = node[i];
        m_config.keyLines.insert(indexed(join(path, key), int(i)), line1(markOf(item)));
        items << item;
    }
    return items;
}

std::optional<QStringList> Reader::stringList(const Fields &fields, const QString &key, const QString &path)
{
    const std::optional<QList<YAML::Node>> items = sequence(fields, key, path);
    if (!items)
        return std::nullopt;
    QStringList values;
    for (int i = 0; i < items->size(); ++i) {
        const YAML::Node &item = items->at(i);
        values << (item.IsNull() ? QString()
                                 : scalarText(item, indexed(join(path, key), i)).value_or(QString()));
    }
    return values;
}

void Reader::readSettings(const YAML::Node &node)
{
    const QString path = QStringLiteral("settings");
    const std::optional<Fields> f = openMap(node, path, kSettingsKeys);
    if (!f)
        return;
    Settings &s = m_config.settings;
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        const QString name = QLatin1String(k.name);
        std::visit(
            [&](auto member) {
                using Value = std::decay_t<decltype(s.*member)>;
                if constexpr (std::is_same_v<Value, int> || std::is_same_v<Value, qint64>) {
                    assign(s.*member, integer(*f, name, path, std::numeric_limits<Value>::max()));
                } else if constexpr (std::is_same_v<Value, bool>) {
                    s.*member = boolean(*f, name, path).value_or(s.*member);
                } else if constexpr (std::is_same_v<Value, QString>) {
                    s.*member = string(*f, name, path).value_or(s.*member);
                } else if constexpr (std::is_same_v<Value, QStringList>) {
                    s.*member = stringList(*f, name, path).value_or(s.*member);
                } else {
                    static_assert(std::is_same_v<Value, QList<QPair<QString, QString>>>);
                    const auto it = f->constFind(name);
                    if (it != f->cend() && !it->value.IsNull())
                        s.*member = orderedMap(it->value, join(path, name));
                }
            },
            k.member);
    }
}

ProviderConfig Reader::readProvider(const YAML::Node &node, const QString &path)
{
    ProviderConfig p;
    p.line = line1(markOf(node));
    if (node.IsNull()) {
        error(node, path, ConfigYamlReader::tr("expected a provider (a map with id, name, type, apiKey)"));
        return p;
    }
    const std::optional<Fields> f = openMap(node, path, kProviderKeys);
    if (!f)
        return p;
    p.id = string(*f, QStringLiteral("id"), path).value_or(QString());
    p.name = string(*f, QStringLiteral("name"), path).value_or(QString());
    p.type = string(*f, QStringLiteral("type"), path).value_or(QString());
    p.apiKey = string(*f, QStringLiteral("apiKey"), path).value_or(QString());
    p.baseUrl = string(*f, QStringLiteral("baseUrl"), path).value_or(QString());
    if (const auto timeout = integer(*f, QStringLiteral("timeout"), path, kInt64Max))
        p.timeoutMs = *timeout;
    p.enabled = boolean(*f, QStringLiteral("enabled"), path).value_or(true);
    if (f->contains(QStringLiteral("rateLimits")))
        readRateLimits(f->value(QStringLiteral("rateLimits")).value, join(path, QStringLiteral("rateLimits")),
                       p.rateLimits);
    if (f->contains(QStringLiteral("headers")))
        readHeaders(f->value(QStringLiteral("headers")).value, join(path, QStringLiteral("headers")), p);
    return p;
}

void Reader::readRateLimits(const YAML::Node &node, const QString &path, ManualRateLimits &limits)
{
    const std::optional<Fields> f = openMap(node, path, kRateLimitKeys);
    if (!f)
        return;
    assign(limits.requestsPerMinute, integer(*f, QStringLiteral("requestsPerMinute"), path, kIntMax));
    assign(limits.requestsPerHour, integer(*f, QStringLiteral("requestsPerHour"), path, kIntMax));
    assign(limits.requestsPerDay, integer(*f, QStringLiteral("requestsPerDay"), path, kIntMax));
    assign(limits.tokensPerMinute, integer(*f, QStringLiteral("tokensPerMinute"), path, kIntMax));
    assign(limits.tokensPerDay, integer(*f, QStringLiteral("tokensPerDay"), path, kIntMax));
    assign(limits.concurrentRequests, integer(*f, QStringLiteral("concurrentRequests"), path, kIntMax));
    if (const auto scope = string(*f, QStringLiteral("scope"), path)) {
        if (*scope == QLatin1String("model")) {
            limits.scope = ManualRateLimits::Scope::Model;
        } else if (*scope == QLatin1String("provider")) {
            limits.scope = ManualRateLimits::Scope::Provider;
        } else {
            error(f->value(QStringLiteral("scope")).value, join(path, QStringLiteral("scope")),
                  ConfigYamlReader::tr("%1 is not \"model\" or \"provider\"").arg(quoted(*scope)));
        }
    }
}

void Reader::readHeaders(const YAML::Node &node, const QString &path, ProviderConfig &provider)
{
    for (const auto &[name, value] : orderedMap(node, path))
        provider.headers.append({name.toUtf8(), value.toUtf8()});
}

QList<QPair<QString, QString>> Reader::orderedMap(const YAML::Node &node, const QString &path)
{
    QList<QPair<QString, QString>> out;
    const std::optional<Fields> f = openMap(node, path, {});
    if (!f)
        return out;
    // Keep the file's order: iterate the YAML map, not the hash.
    for (auto it = node.begin(); it != node.end(); ++it) {
        const QString name = QString::fromStdString(it->first.Scalar());
        if (!f->contains(name) || f->value(name).key.Mark().pos != it->first.Mark().pos)
            continue;
        const QString value =
            it->second.IsNull() ? QString() : scalarText(it->second, join(path, name)).value_or(QString());
        m_config.keyLines.insert(join(path, name), line1(markOf(it->first)));
        out.append({name, value});
    }
    return out;
}

ChainConfig Reader::readChain(const YAML::Node &node, const QString &path)
{
    ChainConfig chain;
    chain.line = line1(markOf(node));
    if (node.IsNull()) {
        error(node, path, ConfigYamlReader::tr("expected a chain (a map with name and entries)"));
        return chain;
    }
    const std::optional<Fields> f = openMap(node, path, kChainKeys);
    if (!f)
        return chain;
    chain.name = string(*f, QStringLiteral("name"), path).value_or(QString());
    chain.midStreamContinue = boolean(*f, QStringLiteral("midStreamContinue"), path);
    const std::optional<QList<YAML::Node>> entries = sequence(*f, QStringLiteral("entries"), path);
    if (!entries)
        return chain;
    for (int i = 0; i < entries->size(); ++i) {
        const YAML::Node &item = entries->at(i);
        const QString entryPath = indexed(join(path, QStringLiteral("entries")), i);
        ChainEntry entry;
        entry.line = line1(markOf(item));
        if (item.IsNull())
            error(item, entryPath, ConfigYamlReader::tr("expected an entry (a map with provider and model)"));
        if (const std::optional<Fields> e = openMap(item, entryPath, kEntryKeys)) {
            entry.provider = string(*e, QStringLiteral("provider"), entryPath).value_or(QString());
            entry.model = string(*e, QStringLiteral("model"), entryPath).value_or(QString());
            if (const auto max = integer(*e, QStringLiteral("maxOutputTokens"), entryPath, kIntMax))
                entry.maxOutputTokens = int(*max);
        }
        chain.entries << entry;
    }
    return chain;
}

ConfigYamlReader::Result Reader::run(const QByteArray &yaml)
{
    m_text = yaml;
    YAML::Node root;
    try {
        root = YAML::Load(yaml.toStdString());
    } catch (const YAML::Exception &e) {
        m_result.errors << ConfigIssue{
            QString(), line1(e.mark), column1(e.mark),
            ConfigYamlReader::tr("YAML syntax error: %1").arg(QString::fromStdString(e.msg))};
        return m_result;
    }
    if (!root.IsDefined() || root.IsNull()) {
        m_result.errors << ConfigIssue{QString(), 0, 0,
                                       ConfigYamlReader::tr("the file is empty (expected version, settings, "
                                                            "providers and chains)")};
        return m_result;
    }
    const std::optional<Fields> top = openMap(root, QString(), kTopKeys);
    if (!top)
        return m_result;

    if (!top->contains(QStringLiteral("version"))) {
        error(root, QStringLiteral("version"), ConfigYamlReader::tr("is required (write \"version: 1\")"));
    } else {
        assign(m_config.version, integer(*top, QStringLiteral("version"), QString(), kIntMax));
    }
    if (!top->contains(QStringLiteral("settings")))
        error(root, QStringLiteral("settings"), ConfigYamlReader::tr("is required"));
    else
        readSettings(top->value(QStringLiteral("settings")).value);

    if (const auto providers = sequence(*top, QStringLiteral("providers"), QString())) {
        for (int i = 0; i < providers->size(); ++i)
            m_config.providers << readProvider(providers->at(i), indexed(QStringLiteral("providers"), i));
    }
    if (const auto chains = sequence(*top, QStringLiteral("chains"), QString())) {
        for (int i = 0; i < chains->size(); ++i)
            m_config.chains << readChain(chains->at(i), indexed(QStringLiteral("chains"), i));
    }
    m_result.config = m_config;
    return m_result;
}

} // namespace

ConfigYamlReader::Result ConfigYamlReader::read(const QByteArray &yaml, const EnvExpander::Lookup &env)
{
    try {
        return Reader(env).run(yaml);
    } catch (const std::exception &e) {
        Result result;
        result.errors << ConfigIssue{QString(), 0, 0,
                                     tr("could not read the YAML: %1").arg(QString::fromStdString(e.what()))};
        return result;
    }
}
