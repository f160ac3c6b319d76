#pragma once

#include "config.h"
#include "configloader.h"

#include <QCoreApplication>
#include <QString>
#include <QStringList>

#include <optional>

// What the command line says about where and how to run; empty/unset fields were not given.
struct CommandLineOverrides
{
    QString configPath;
    std::optional<int> port;
    QString host;
};

// Where the config file is and which values the environment and command line override (CLI > env > file), as
// the reference does with --config/CONFIG_PATH and --port/PORT. Pure functions over an injected environment,
// used by main() and --check-config.
struct ConfigPaths
{
    Q_DECLARE_TR_FUNCTIONS(ConfigPaths)

public:
    // --config/-c, else CONFIG_PATH, else ./config/config.yaml (relative to the working directory).
    static QString resolveConfigPath(const CommandLineOverrides &cli, const ConfigLoader::EnvLookup &env);
    // Applies PORT, HOST, LOG_LEVEL, CHAIN_DATABASE_URL (else DATABASE_URL) and CHAIN_REPLICA_NAME from the
    // environment, then --port and --host. Returns errors for bad
    // PORT, HOST, database URL, --port or --host values (which are then not applied); an invalid LOG_LEVEL is
    // ignored. Port 0 (pick a free port, as tests do) is accepted here though the file requires 1-65535.
    static QStringList applyOverrides(Config &config, const CommandLineOverrides &cli,
                                      const ConfigLoader::EnvLookup &env);

    static QString defaultConfigPath() { return QStringLiteral("./config/config.yaml"); }
};
