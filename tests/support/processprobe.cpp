#include "processprobe.h"

#include <QDir>
#include <QFile>

namespace {
QString procPath(qint64 pid, const char *leaf)
{
    return (pid == 0 ? QStringLiteral("/proc/self/") : QStringLiteral("/proc/%1/").arg(pid)) +
           QLatin1String(leaf);
}

qint64 statusField(qint64 pid, const QByteArray &name)
{
    QFile f(procPath(pid, "status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(QByteArray(name + ':')))
            return line.mid(name.size() + 1).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}
} // namespace

namespace ProcessProbe {

qint64 rssKiB(qint64 pid)
{
    return statusField(pid, "VmRSS");
}

qint64 peakRssKiB(qint64 pid)
{
    return statusField(pid, "VmHWM");
}

void resetPeakRss()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    if (f.open(QIODevice::WriteOnly))
        f.write("5");
}

int openFds(qint64 pid)
{
    return int(
        QDir(procPath(pid, "fd")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System).size());
}

} // namespace ProcessProbe
