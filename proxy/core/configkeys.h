#pragma once

#include "config.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonValue>
#include <QList>
#include <QStringList>

#include <variant>

// The keys of each config object: the reference schema plus our additions. The settings are one table with
// everything known about each key (its member of Settings, type, default, whether it needs a restart, where
// the UIs show it, a one-line description, the validator's range). The YAML reader and writer, --init's
// example, the admin API's JSON (and its /v1/admin/schema), the validator, ProxyService's restart rule and
// both Settings pages read it; none of them lists the keys again.
namespace ConfigKeys {

// What a setting holds, and how it is written.
enum class Type {
    Integer,
    Boolean,
    Text,       // free text (a path, a name): always quoted in YAML
    Word,       // an address or a level: quoted in YAML only when a plain scalar would read as something else
    LogLevel,   // one of ConfigValidator::logLevels()
    ChainName,  // the name of a chain
    List,       // strings
    SecretList, // strings masked in the admin API (API keys)
    AliasMap,   // an ordered map of model name patterns to chain names (a list of {pattern, chain} in JSON)
    SecretUrl,  // a URL whose password is masked in the admin API (settings.storage)
};

using Aliases = QList<QPair<QString, QString>>;
using Member = std::variant<int Settings::*, qint64 Settings::*, bool Settings::*, QString Settings::*,
                            QStringList Settings::*, Aliases Settings::*>;

struct SettingKey
{
    const char *name;
    Member member;
    Type type;
    // Read once at start (listener, request log, logging): a change in the file applies at the next start.
    bool restartOnly = false;
    // A key of the reference 429chain schema: the writer always writes it (ours only when not the default).
    bool reference = false;
    // Where the Settings pages show it: "routing", "midStream", "queue", "server"; empty: not in the form
    // (API keys have a panel of their own, admin keys are edited in the file).
    const char *group = "";
    const char *label = "";       // short, for the web UI (translated in the "ConfigKeys" context)
    const char *description = ""; // one line: --init's comment and both UIs' hint
    qint64 minimum = 0;           // integers: the validator's range
    qint64 maximum = 0;
    // --init writes this value instead of the default (one item for lists); empty: the default.
    const char *example = "";

    QString path() const { return QStringLiteral("settings.") + QLatin1String(name); }
    QString translatedDescription() const { return QCoreApplication::translate("ConfigKeys", description); }
    bool isInteger() const { return type == Type::Integer; }
    // The value of this key in `settings` as the UIs and the schema show it (secrets not masked).
    QJsonValue jsonValue(const Settings &settings) const;
    // An integer key's value in `settings` (0 for other types).
    qint64 integer(const Settings &settings) const;
    bool equal(const Settings &a, const Settings &b) const;
    // Sets this key of `to` to its value in `from`.
    void copy(const Settings &from, Settings &to) const;
};

// Every setting, in the order the writer, the example and the admin API use.
const QList<SettingKey> &settingsTable();
// The setting of that name, or nullptr.
const SettingKey *setting(const QString &name);
// Names of the restart-only settings whose values differ between a and b, as "settings.port" etc.
QStringList changedRestartSettings(const Settings &a, const Settings &b);
// The names of the settings whose values differ between a and b.
QStringList changedSettings(const Settings &a, const Settings &b);
// The table for the admin API: [{name, type, default, restartOnly, group, label, description, minimum,
// maximum, choices}]. Labels and descriptions in English, as the web UI is.
QJsonArray settingsSchema();

const QStringList &top();
const QStringList &settings();
const QStringList &provider();
const QStringList &rateLimits();
const QStringList &chain();
const QStringList &entry();

} // namespace ConfigKeys
