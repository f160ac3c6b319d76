#pragma once

#include <QCoreApplication>
#include <QString>
#include <QStringList>

// "Start at login" on Linux desktops: an XDG autostart entry, $XDG_CONFIG_HOME/autostart/429chain.desktop
// (~/.config/autostart/ by default), that runs this program with the given arguments.
class Autostart
{
    Q_DECLARE_TR_FUNCTIONS(Autostart)

public:
    static QString entryPath();
    static bool isEnabled();
    // Writes (with `program` and `arguments` on its Exec line) or removes the entry; false with a reason.
    static bool setEnabled(bool enabled, const QString &program, const QStringList &arguments,
                           QString *error);
    // The entry's text, for `program` and `arguments` (quoted as the Desktop Entry spec asks).
    static QByteArray entry(const QString &program, const QStringList &arguments);
};
