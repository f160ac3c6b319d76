#include "configloader.h"

#include "configvalidator.h"
#include "configwriter.h"
#include "configyamlreader.h"
#include "providerkind.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <limits>

namespace {

// A validator finding under a key that already had a reading error repeats it (a missing value, a default).
bool isUnder(const QString &path, const QStringList &prefixes)
{
    for (const QString &prefix : prefixes) {
        if (path == prefix || path.startsWith(prefix + QLatin1Char('.')) ||
            path.startsWith(prefix + QLatin1Char('[')))
            return true;
    }
    return false;
}

QStringList formatSorted(QList<ConfigIssue> issues, const QString &sourceName)
{
    // By line, unknown lines last; issues on one line keep the order they were found in.
    std::stable_sort(issues.begin(), issues.end(), [](const ConfigIssue &a, const ConfigIssue &b) {
        const int la = a.line > 0 ? a.line : std::numeric_limits<int>::max();
        const int lb = b.line > 0 ? b.line : std::numeric_limits<int>::max();
        return la < lb;
    });
    QStringList messages;
    for (const ConfigIssue &issue : issues)
        messages << issue.format(sourceName);
    return messages;
}

} // namespace

ConfigLoader::EnvLookup ConfigLoader::systemEnvironment()
{
    return [](const QString &name) -> std::optional<QString> {
        const QByteArray key = name.toLocal8Bit();
        if (!qEnvironmentVariableIsSet(key.constData()))
            return std::nullopt;
        return qEnvironmentVariable(key.constData());
    };
}

ConfigLoadResult ConfigLoader::loadFile(const QString &path, const EnvLookup &env)
{
    ConfigLoadResult result;
    const QFileInfo info(path);
    if (!info.exists()) {
        result.errors << tr("Config file not found: %1\n"
                            "  Create one with: 429chain --init\n"
                            "  Or give its path: 429chain --config /path/to/config.yaml")
                             .arg(path);
        return result;
    }
    QFile file(path);
    if (info.isDir() || !file.open(QIODevice::ReadOnly)) {
        result.errors << tr("Cannot read config file %1: %2")
                             .arg(path, info.isDir() ? tr("it is a directory") : file.errorString());
        return result;
    }
    result = loadString(file.readAll(), path, env);
    if (result.config)
        result.config->sourcePath = path;
    return result;
}

ConfigLoadResult ConfigLoader::loadString(const QByteArray &yaml, const QString &sourceName,
                                          const EnvLookup &env)
{
    ConfigLoadResult result;
    ConfigYamlReader::Result read = ConfigYamlReader::read(yaml, env);
    result.warnings = formatSorted(read.warnings, sourceName);
    if (!read.config) {
        result.errors = formatSorted(read.errors, sourceName);
        return result;
    }
    QList<ConfigIssue> errors = read.errors;
    for (const ConfigIssue &issue : ConfigValidator::check(*read.config)) {
        if (!isUnder(issue.path, read.errorPaths))
            errors << issue;
    }
    result.errors = formatSorted(errors, sourceName);
    if (result.errors.isEmpty())
        result.config = std::move(read.config);
    return result;
}

QStringList ConfigLoader::validate(const Config &config)
{
    return formatSorted(ConfigValidator::check(config), config.sourcePath);
}

QByteArray ConfigLoader::exampleConfig()
{
    QFile file(QStringLiteral(":/config/config.example.yaml"));
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    // The settings come from the key table, with their defaults and descriptions; the types from
    // ProviderKind.
    QByteArray example = file.readAll();
    example.replace("@types@", ProviderKind::knownTypes().join(QLatin1String(", ")).toUtf8());
    const QByteArray marker = "settings: # @settings@";
    const qsizetype at = example.indexOf(marker);
    if (at < 0)
        return example;
    const qsizetype end = example.indexOf('\n', at);
    return example.replace(at, (end < 0 ? example.size() : end + 1) - at, ConfigWriter::exampleSettings());
}
