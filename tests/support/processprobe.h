#pragma once

#include <QtGlobal>

// What a process holds, read from /proc (Linux): for the fault, load and soak checks that nothing grows.
namespace ProcessProbe {

qint64 rssKiB(qint64 pid = 0);     // VmRSS; pid 0 = this process
qint64 peakRssKiB(qint64 pid = 0); // VmHWM
void resetPeakRss();               // of this process (clear_refs 5), so peakRssKiB() measures from now
int openFds(qint64 pid = 0);       // entries of /proc/<pid>/fd

} // namespace ProcessProbe
