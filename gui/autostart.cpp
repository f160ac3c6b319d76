#include "autostart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace {

// Desktop Entry spec, "The Exec key": an argument with reserved characters is double-quoted, and inside the
// quotes `"`, `` ` ``, `$` and `\` are escaped with a backslash; a literal % is written %%.
QString quoteArgument(const QString &arg)
{
    static const QString kReserved = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    QString out = arg;
    out.replace(QLatin1Char('%'), QLatin1String("%%"));
    bool needsQuotes = out.isEmpty();
    for (const QChar c : arg)
        needsQuotes = needsQuotes || kReserved.contains(c);
    if (!needsQuotes)
        return out;
    QString quoted;
    for (const QChar c : out) {
        if (c == QLatin1Char('"') || c == QLatin1Char('`') || c == QLatin1Char('$') || c == QLatin1Char('\\'))
            quoted += QLatin1Char('\\');
        quoted += c;
    }
    // In a .desktop file's string value a backslash is itself escaped.
    quoted.replace(QLatin1String("\\"), QLatin1String("\\\\"));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

} // namespace

QString Autostart::entryPath()
{
    // GenericConfigLocation honours XDG_CONFIG_HOME.
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/autostart/429chain.desktop");
}

bool Autostart::isEnabled()
{
    return QFileInfo::exists(entryPath());
}

QByteArray Autostart::entry(const QString &program, const QStringList &arguments)
{
    QStringList exec{quoteArgument(program)};
    for (const QString &arg : arguments)
        exec << quoteArgument(arg);
    QByteArray out;
    out += "[Desktop Entry]\n";
    out += "Type=Application\n";
    out += "Name=429chain\n";
    out += "Comment=" + tr("OpenAI-compatible proxy over free-tier providers").toUtf8() + "\n";
    out += "Exec=" + exec.join(QLatin1Char(' ')).toUtf8() + "\n";
    out += "Icon=429chain\n";
    out += "Terminal=false\n";
    out += "X-GNOME-Autostart-enabled=true\n";
    return out;
}

bool Autostart::setEnabled(bool enabled, const QString &program, const QStringList &arguments, QString *error)
{
    const QString path = entryPath();
    if (!enabled) {
        if (QFileInfo::exists(path) && !QFile::remove(path)) {
            if (error)
                *error = tr("Cannot remove %1.").arg(QDir::toNativeSeparators(path));
            return false;
        }
        return true;
    }
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        if (error)
            *error = tr("Cannot create the folder %1.")
                         .arg(QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    file.write(entry(program, arguments));
    if (!file.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    return true;
}
