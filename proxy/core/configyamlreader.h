#pragma once

#include "config.h"
#include "configvalidator.h"
#include "envexpander.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QString>

#include <optional>

// Turns YAML text into a Config: checks shapes and scalar types, expands ${ENV} references, records the line
// of every key, and reports unknown keys as warnings. Semantic rules are ConfigValidator's. Internal to
// ConfigLoader; keeps yaml-cpp out of every header.
class ConfigYamlReader
{
    Q_DECLARE_TR_FUNCTIONS(ConfigYamlReader)

public:
    struct Result
    {
        std::optional<Config> config; // absent only when the text is not YAML or not a map at all
        QList<ConfigIssue> errors;
        QList<ConfigIssue> warnings;
        QStringList errorPaths; // key paths that had errors; the validator's findings under them are noise
    };

    static Result read(const QByteArray &yaml, const EnvExpander::Lookup &env);
};
