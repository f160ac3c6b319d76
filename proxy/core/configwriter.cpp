#include "configwriter.h"

#include "configkeys.h"
#include "envexpander.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonValue>
#include <QSaveFile>

#include <yaml-cpp/yaml.h>

#include <type_traits>
#include <variant>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <unistd.h>
#endif

namespace {

// Raw scalars of the previous file that hold a ${…} reference, by a path that survives reordering:
// "settings.apiKeys[0]", "providers{groq}.apiKey", "chains{fast}.entries[1].model".
using RawRefs = QHash<QString, QString>;

QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

QString scalarOf(const YAML::Node &map, const char *key)
{
    const YAML::Node value = map[key];
    return value.IsScalar() ? QString::fromStdString(value.Scalar()) : QString();
}

QString itemPath(const QString &list, const YAML::Node &item, int index)
{
    if (list == QLatin1String("providers") && item.IsMap() && !scalarOf(item, "id").isEmpty())
        return QStringLiteral("providers{%1}").arg(scalarOf(item, "id"));
    if (list == QLatin1String("chains") && item.IsMap() && !scalarOf(item, "name").isEmpty())
        return QStringLiteral("chains{%1}").arg(scalarOf(item, "name"));
    return list + QStringLiteral("[%1]").arg(index);
}

void collectRefs(const YAML::Node &node, const QString &path, RawRefs &refs)
{
    switch (node.Type()) {
    case YAML::NodeType::Scalar: {
        const QString text = QString::fromStdString(node.Scalar());
        if (EnvExpander::containsReference(text))
            refs.insert(path, text);
        break;
    }
    case YAML::NodeType::Map:
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it->first.IsScalar())
                collectRefs(it->second, join(path, QString::fromStdString(it->first.Scalar())), refs);
        }
        break;
    case YAML::NodeType::Sequence:
        for (std::size_t i = 0; i < node.size(); ++i)
            collectRefs(node[i], itemPath(path, node[i], int(i)), refs);
        break;
    default:
        break;
    }
}

RawRefs refsOf(const QByteArray &previous)
{
    RawRefs refs;
    if (!previous.contains("${"))
        return refs;
    try {
        collectRefs(YAML::Load(previous.toStdString()), QString(), refs);
    } catch (const std::exception &) {
        // A previous file that is not YAML has no references worth keeping.
    }
    return refs;
}

// A string that a plain scalar would turn into another type (or into null) for a YAML reader.
bool looksLikeOtherType(const QString &text)
{
    static const QStringList words = {QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("yes"),
                                      QStringLiteral("no"),   QStringLiteral("on"),    QStringLiteral("off"),
                                      QStringLiteral("y"),    QStringLiteral("n"),     QStringLiteral("null"),
                                      QStringLiteral("~")};
    if (text.isEmpty() || words.contains(text, Qt::CaseInsensitive) || text.trimmed() != text)
        return true;
    bool isNumber = false;
    text.toDouble(&isNumber);
    return isNumber;
}

class Emitter
{
public:
    enum class Quote { Always, IfNeeded };

    Emitter(RawRefs refs, ConfigLoader::EnvLookup env) : m_refs(std::move(refs)), m_env(std::move(env)) {}

    QByteArray run(const Config &config);

private:
    void settings(const Settings &s);
    void provider(const ProviderConfig &p);
    void rateLimits(const ManualRateLimits &r);
    void chain(const ChainConfig &c);

    // A key of the current map and its value; the value's path is m_base + name.
    void putText(const char *name, const QString &value, Quote quote = Quote::Always);
    void putNumber(const char *name, qint64 value);
    void putBool(const char *name, bool value);
    void putList(const char *name, const QStringList &values);
    // An ordered map of strings (settings.modelAliases), values quoted only when needed.
    void putMap(const char *name, const QList<QPair<QString, QString>> &entries);
    void text(const QString &path, const QString &value, Quote quote);
    // The previous file's raw text at `path` if it still expands to `value`.
    QString reference(const QString &path, const QString &value) const;
    QString pathOf(const char *name) const { return m_base + QLatin1String(name); }

    RawRefs m_refs;
    ConfigLoader::EnvLookup m_env;
    YAML::Emitter m_out;
    QString m_base; // "settings.", "providers{groq}.", …
};

QString Emitter::reference(const QString &path, const QString &value) const
{
    const QString raw = m_refs.value(path);
    if (raw.isEmpty())
        return QString();
    const EnvExpander::Result expanded = EnvExpander::expand(raw, m_env);
    return expanded.ok() && expanded.value == value ? raw : QString();
}

void Emitter::text(const QString &path, const QString &value, Quote quote)
{
    QString raw = reference(path, value);
    if (raw.isEmpty())
        raw = QString(value).replace(QLatin1String("${"), QLatin1String("$${"));
    if (quote == Quote::Always || looksLikeOtherType(raw))
        m_out << YAML::DoubleQuoted;
    m_out << raw.toStdString();
}

void Emitter::putText(const char *name, const QString &value, Quote quote)
{
    m_out << YAML::Key << name << YAML::Value;
    text(pathOf(name), value, quote);
}

void Emitter::putNumber(const char *name, qint64 value)
{
    m_out << YAML::Key << name << YAML::Value;
    const QString raw = reference(pathOf(name), QString::number(value));
    if (!raw.isEmpty())
        m_out << raw.toStdString(); // plain, as the reader wants numbers
    else
        m_out << static_cast<long long>(value);
}

void Emitter::putBool(const char *name, bool value)
{
    m_out << YAML::Key << name << YAML::Value;
    const QString raw = reference(pathOf(name), value ? QStringLiteral("true") : QStringLiteral("false"));
    if (!raw.isEmpty())
        m_out << raw.toStdString();
    else
        m_out << value;
}

void Emitter::putList(const char *name, const QStringList &values)
{
    m_out << YAML::Key << name << YAML::Value << YAML::BeginSeq;
    for (int i = 0; i < values.size(); ++i)
        text(pathOf(name) + QStringLiteral("[%1]").arg(i), values.at(i), Quote::Always);
    m_out << YAML::EndSeq;
}

void Emitter::putMap(const char *name, const QList<QPair<QString, QString>> &entries)
{
    m_out << YAML::Key << name << YAML::Value << YAML::BeginMap;
    for (const auto &[key, value] : entries) {
        m_out << YAML::Key << key.toStdString() << YAML::Value;
        text(pathOf(name) + QLatin1Char('.') + key, value, Quote::IfNeeded);
    }
    m_out << YAML::EndMap;
}

void Emitter::settings(const Settings &s)
{
    const Settings defaults;
    m_base = QStringLiteral("settings.");
    m_out << YAML::Key << "settings" << YAML::Value << YAML::BeginMap;
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        // The reference's keys are always written (its readers expect them); ours only when set.
        if (!k.reference && k.equal(s, defaults))
            continue;
        std::visit(
            [&](auto member) {
                using Value = std::decay_t<decltype(s.*member)>;
                if constexpr (std::is_same_v<Value, int> || std::is_same_v<Value, qint64>)
                    putNumber(k.name, s.*member);
                else if constexpr (std::is_same_v<Value, bool>)
                    putBool(k.name, s.*member);
                else if constexpr (std::is_same_v<Value, QString>)
                    putText(k.name, s.*member,
                            k.type == ConfigKeys::Type::Word || k.type == ConfigKeys::Type::LogLevel
                                ? Quote::IfNeeded
                                : Quote::Always);
                else if constexpr (std::is_same_v<Value, QStringList>)
                    putList(k.name, s.*member);
                else
                    putMap(k.name, s.*member);
            },
            k.member);
    }
    m_out << YAML::EndMap;
}

void Emitter::rateLimits(const ManualRateLimits &r)
{
    // The reference's four first, then ours.
    const std::pair<const char *, const std::optional<int> *> limits[] = {
        {"requestsPerMinute", &r.requestsPerMinute}, {"tokensPerMinute", &r.tokensPerMinute},
        {"requestsPerDay", &r.requestsPerDay},       {"concurrentRequests", &r.concurrentRequests},
        {"requestsPerHour", &r.requestsPerHour},     {"tokensPerDay", &r.tokensPerDay},
    };
    const QString base = m_base;
    m_base += QLatin1String("rateLimits.");
    m_out << YAML::Key << "rateLimits" << YAML::Value << YAML::BeginMap;
    for (const auto &[name, value] : limits) {
        if (*value)
            putNumber(name, **value);
    }
    if (r.scope == ManualRateLimits::Scope::Provider)
        putText("scope", QStringLiteral("provider"), Quote::IfNeeded);
    m_out << YAML::EndMap;
    m_base = base;
}

void Emitter::provider(const ProviderConfig &p)
{
    m_base = QStringLiteral("providers{%1}.").arg(p.id);
    m_out << YAML::BeginMap;
    putText("id", p.id, Quote::IfNeeded);
    putText("name", p.name, Quote::IfNeeded);
    putText("type", p.type, Quote::IfNeeded);
    putText("apiKey", p.apiKey);
    if (!p.baseUrl.isEmpty())
        putText("baseUrl", p.baseUrl);
    if (p.timeoutMs)
        putNumber("timeout", *p.timeoutMs);
    if (!p.enabled)
        putBool("enabled", false);
    if (!p.headers.isEmpty()) {
        m_out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
        for (const auto &[name, value] : p.headers) {
            m_out << YAML::Key << name.toStdString() << YAML::Value;
            text(pathOf("headers.") + QString::fromUtf8(name), QString::fromUtf8(value), Quote::Always);
        }
        m_out << YAML::EndMap;
    }
    if (!p.rateLimits.isEmpty() || p.rateLimits.scope != ManualRateLimits::Scope::Model)
        rateLimits(p.rateLimits);
    m_out << YAML::EndMap;
}

void Emitter::chain(const ChainConfig &c)
{
    const QString base = QStringLiteral("chains{%1}.").arg(c.name);
    m_base = base;
    m_out << YAML::BeginMap;
    putText("name", c.name, Quote::IfNeeded);
    if (c.midStreamContinue)
        putBool("midStreamContinue", *c.midStreamContinue);
    m_out << YAML::Key << "entries" << YAML::Value << YAML::BeginSeq;
    for (int i = 0; i < c.entries.size(); ++i) {
        m_base = base + QStringLiteral("entries[%1].").arg(i);
        m_out << YAML::BeginMap;
        putText("provider", c.entries.at(i).provider, Quote::IfNeeded);
        putText("model", c.entries.at(i).model);
        if (c.entries.at(i).maxOutputTokens)
            putNumber("maxOutputTokens", *c.entries.at(i).maxOutputTokens);
        m_out << YAML::EndMap;
    }
    m_out << YAML::EndSeq << YAML::EndMap;
}

QByteArray Emitter::run(const Config &config)
{
    m_out.SetIndent(2);
    m_out << YAML::Comment("429chain config, saved by 429chain: comments are not kept (the previous file is "
                           "the .bak beside this one)");
    m_out << YAML::BeginMap;
    m_base.clear();
    putNumber("version", config.version);
    settings(config.settings);
    m_out << YAML::Key << "providers" << YAML::Value << YAML::BeginSeq;
    for (const ProviderConfig &p : config.providers)
        provider(p);
    m_out << YAML::EndSeq;
    m_out << YAML::Key << "chains" << YAML::Value << YAML::BeginSeq;
    for (const ChainConfig &c : config.chains)
        chain(c);
    m_out << YAML::EndSeq << YAML::EndMap;
    return QByteArray(m_out.c_str(), qsizetype(m_out.size())) + '\n';
}

void syncDirectory(const QString &dir)
{
#ifdef Q_OS_UNIX
    // The rename is durable only once the directory entry is on disk.
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
#else
    Q_UNUSED(dir);
#endif
}

constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

// Temp file in the same directory, flushed to disk (QSaveFile::commit syncs), renamed over `path`; 0600.
bool saveAtomically(const QString &path, const QByteArray &content, QString *error)
{
    QSaveFile file(path);
    const auto fail = [&](const QString &why) {
        if (error)
            *error = ConfigWriter::tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), why);
        file.cancelWriting();
        return false;
    };
    if (!file.open(QIODevice::WriteOnly))
        return fail(file.errorString());
    if (!file.setPermissions(kOwnerOnly))
        return fail(ConfigWriter::tr("cannot make it owner-only: %1").arg(file.errorString()));
    if (file.write(content) != content.size())
        return fail(file.errorString());
    if (!file.commit()) {
        if (error)
            *error = ConfigWriter::tr("cannot write %1: %2")
                         .arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    QFile::setPermissions(path, kOwnerOnly); // in case the platform's rename kept other bits
    syncDirectory(QFileInfo(path).absolutePath());
    return true;
}

// A value as --init's example writes it: its example, else the default.
QStringList exampleValues(const ConfigKeys::SettingKey &k, const Settings &defaults)
{
    const QString example = QString::fromUtf8(k.example);
    const QJsonValue value = k.jsonValue(defaults);
    const auto quote = [&](const QString &text) -> QString {
        const bool plain = k.type == ConfigKeys::Type::Word || k.type == ConfigKeys::Type::LogLevel;
        return plain && !looksLikeOtherType(text) ? text : QLatin1Char('"') + text + QLatin1Char('"');
    };
    if (value.isArray()) {
        QStringList items;
        for (const QJsonValue &item : value.toArray())
            items << quote(item.toString());
        if (!example.isEmpty())
            items = QStringList{quote(example)};
        return items;
    }
    if (!example.isEmpty())
        return {quote(example)};
    if (value.isBool())
        return {value.toBool() ? QStringLiteral("true") : QStringLiteral("false")};
    if (value.isDouble())
        return {QString::number(qint64(value.toDouble()))};
    return {quote(value.toString())};
}

} // namespace

QByteArray ConfigWriter::exampleSettings()
{
    constexpr int kCommentColumn = 35;
    const Settings defaults;
    const auto line = [](const QString &text, const char *description) -> QString {
        QString out = text;
        out += QString(qMax(1, kCommentColumn - int(text.size())), QLatin1Char(' '));
        return out + QLatin1String("# ") + QLatin1String(description) + QLatin1Char('\n');
    };
    QString reference;
    QString ours;
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        const QString prefix = k.reference ? QStringLiteral("  ") : QStringLiteral("  # ");
        QString &out = k.reference ? reference : ours;
        if (k.type == ConfigKeys::Type::AliasMap) { // the example is one "pattern": chain line
            out += line(prefix + QLatin1String(k.name) + QLatin1Char(':'), k.description);
            out += prefix + QLatin1String("  ") + QString::fromUtf8(k.example) + QLatin1Char('\n');
            continue;
        }
        const QStringList values = exampleValues(k, defaults);
        if (k.type == ConfigKeys::Type::List || k.type == ConfigKeys::Type::SecretList) {
            out += line(prefix + QLatin1String(k.name) + QLatin1Char(':'), k.description);
            for (const QString &item : values)
                out += prefix + QLatin1String("  - ") + item + QLatin1Char('\n');
        } else {
            out +=
                line(prefix + QLatin1String(k.name) + QLatin1String(": ") + values.value(0), k.description);
        }
    }
    return QStringLiteral("settings:\n%1\n  # 429chain (Qt) additions, all optional:\n%2")
        .arg(reference, ours)
        .toUtf8();
}

QByteArray ConfigWriter::toYaml(const Config &config, const QByteArray &previous,
                                const ConfigLoader::EnvLookup &env)
{
    return Emitter(refsOf(previous), env).run(config);
}

bool ConfigWriter::replaceFile(const QString &path, const QByteArray &content, QString *error)
{
    const QFileInfo info(path);
    if (info.exists()) {
        QFile old(path);
        if (info.isDir() || !old.open(QIODevice::ReadOnly)) {
            if (error)
                *error = tr("cannot read %1: %2")
                             .arg(QDir::toNativeSeparators(path),
                                  info.isDir() ? tr("it is a directory") : old.errorString());
            return false;
        }
        if (!saveAtomically(path + QLatin1String(".bak"), old.readAll(), error))
            return false;
    }
    return saveAtomically(path, content, error);
}

bool ConfigWriter::write(const Config &config, const QString &path, QString *error, QByteArray *written)
{
    QByteArray previous;
    QFile old(path);
    if (old.open(QIODevice::ReadOnly))
        previous = old.readAll();
    const QByteArray content = toYaml(config, previous);
    if (!replaceFile(path, content, error))
        return false;
    if (written)
        *written = content;
    return true;
}
