#include "configpaths.h"

#include "configvalidator.h"
#include "storageurl.h"

namespace {

// The value of a variable that is set and not blank.
std::optional<QString> nonEmpty(const ConfigLoader::EnvLookup &env, const QString &name)
{
    if (!env)
        return std::nullopt;
    const std::optional<QString> value = env(name);
    if (!value || value->trimmed().isEmpty())
        return std::nullopt;
    return value->trimmed();
}

} // namespace

QString ConfigPaths::resolveConfigPath(const CommandLineOverrides &cli, const ConfigLoader::EnvLookup &env)
{
    if (!cli.configPath.isEmpty())
        return cli.configPath;
    if (const auto path = nonEmpty(env, QStringLiteral("CONFIG_PATH")))
        return *path;
    return defaultConfigPath();
}

QStringList ConfigPaths::applyOverrides(Config &config, const CommandLineOverrides &cli,
                                        const ConfigLoader::EnvLookup &env)
{
    QStringList errors;
    if (const auto port = nonEmpty(env, QStringLiteral("PORT"))) {
        bool ok = false;
        const int value = port->toInt(&ok);
        if (ok && value >= 0 && value <= 65535)
            config.settings.port = value;
        else
            errors << tr("PORT: \"%1\" is not a port number (0-65535)").arg(*port);
    }
    if (const auto host = nonEmpty(env, QStringLiteral("HOST"))) {
        if (ConfigValidator::isValidHost(*host))
            config.settings.host = *host;
        else
            errors << tr("HOST: \"%1\" is not an IP address or \"localhost\"").arg(*host);
    }
    if (const auto level = nonEmpty(env, QStringLiteral("LOG_LEVEL"))) {
        if (ConfigValidator::isValidLogLevel(level->toLower()))
            config.settings.logLevel = level->toLower();
    }
    // The database: CHAIN_DATABASE_URL (ours) wins over DATABASE_URL (the usual name on hosting platforms).
    for (const char *name : {"CHAIN_DATABASE_URL", "DATABASE_URL"}) {
        const auto url = nonEmpty(env, QLatin1String(name));
        if (!url)
            continue;
        QString why;
        if (StorageUrl::parse(*url, &why))
            config.settings.storage = *url;
        else
            errors << QLatin1String(name) + QLatin1String(": ") + why;
        break;
    }
    if (const auto replica = nonEmpty(env, QStringLiteral("CHAIN_REPLICA_NAME")))
        config.settings.replicaName = *replica;
    if (cli.port) {
        if (*cli.port >= 0 && *cli.port <= 65535)
            config.settings.port = *cli.port;
        else
            errors << tr("--port: %1 is not a port number (0-65535)").arg(*cli.port);
    }
    if (!cli.host.isEmpty()) {
        if (ConfigValidator::isValidHost(cli.host))
            config.settings.host = cli.host;
        else
            errors << tr("--host: \"%1\" is not an IP address or \"localhost\"").arg(cli.host);
    }
    // The bind rule, again after HOST and --host: an address other machines reach is never served without
    // keys.
    if (!ConfigValidator::isLoopbackHost(config.settings.host) && config.settings.apiKeys.isEmpty()) {
        errors << tr("refusing to listen on %1 without settings.apiKeys: anyone on the network could use "
                     "your providers; add a key or bind 127.0.0.1")
                      .arg(config.settings.host);
    }
    return errors;
}
