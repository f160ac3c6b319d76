#pragma once

#include "config.h"
#include "configloader.h"

#include <QString>

// --export-config and --import-config: move the config between a YAML file and the PostgreSQL database that
// replicas share (settings.storage or DATABASE_URL / CHAIN_DATABASE_URL). An import is validated first and
// applied live by every running replica. Both print what they did and return the exit code.
namespace ConfigTransfer {

int exportTo(const Config &config, const QString &path);
int importFrom(const Config &config, const QString &path, const ConfigLoader::EnvLookup &env);

} // namespace ConfigTransfer
