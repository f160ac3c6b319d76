#pragma once

#include <QString>

// Process-wide log output: LOG_FORMAT pretty (default, for a terminal) or json (one object a line, for Docker
// and log shippers), and the level from settings.logLevel / LOG_LEVEL mapped onto the chain.* categories.
namespace LogSetup {
void install(const QString &format);
void setLevel(const QString &level);
} // namespace LogSetup
