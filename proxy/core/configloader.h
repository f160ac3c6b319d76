#pragma once

#include "config.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

// The outcome of loading a config: the config if it is usable, and every problem found. Each message starts
// with "file:line:" (and ":column:" where known) and names the key path, e.g. "providers[2].baseUrl".
struct ConfigLoadResult
{
    std::optional<Config> config;
    QStringList errors;
    QStringList warnings; // unknown keys and other things worth a look; never fatal

    bool ok() const { return config.has_value(); }
};

// Reads the YAML config file (the reference 429chain schema plus our additions), expands ${ENV_VAR}
// references and validates the result. Used at startup, by --check-config, by the file watcher on reload and
// by admin writes (validate()). Never throws; all problems come back as messages.
class ConfigLoader
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)

public:
    using EnvLookup = std::function<std::optional<QString>(const QString &name)>;

    // Looks names up in the process environment; a variable set to "" is set.
    static EnvLookup systemEnvironment();

    static ConfigLoadResult loadFile(const QString &path, const EnvLookup &env = systemEnvironment());
    // sourceName is used in messages only; the returned Config has an empty sourcePath.
    static ConfigLoadResult loadString(const QByteArray &yaml, const QString &sourceName,
                                       const EnvLookup &env = systemEnvironment());

    // Semantic checks (ranges, references, duplicates, URLs). Messages carry "file:line:" when the config
    // knows the line of the key (Config::keyLines, or the line of the provider/chain/entry). Callers that
    // rebuild parts of a loaded config should drop keyLines entries that no longer apply.
    static QStringList validate(const Config &config);

    // The commented example written by `429chain --init` (resource ":/config/config.example.yaml").
    static QByteArray exampleConfig();
};
