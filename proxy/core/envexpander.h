#pragma once

#include <QCoreApplication>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

// Expands ${NAME} and ${NAME:-default} in config string values; the default applies when NAME is unset or
// empty, and "$${" writes a literal "${". Used by the config loader for every string scalar; the lookup is
// injected so tests need no process environment.
class EnvExpander
{
    Q_DECLARE_TR_FUNCTIONS(EnvExpander)

public:
    using Lookup = std::function<std::optional<QString>(const QString &name)>;

    struct Result
    {
        QString value;
        QStringList errors; // one per unset variable without a default, or a malformed reference

        bool ok() const { return errors.isEmpty(); }
    };

    static Result expand(const QString &text, const Lookup &env);
    static bool containsReference(const QString &text) { return text.contains(QLatin1String("${")); }
};
