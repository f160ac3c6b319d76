#pragma once

#include "statssource.h"

#include <QCoreApplication>
#include <QIODevice>
#include <QString>

// The request log as CSV (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote or line break
// in double quotes, quotes doubled), one column set for both UIs: the desktop's export (write(), to a file)
// and the web UI's (GET /v1/stats/requests.csv, writeRows() into the answer). Text that a spreadsheet would
// run as a formula (=, +, -, @ first) gets a leading apostrophe. Both page through the log with beforeId, on
// the stats thread whatever the size of the log, and stop between pages when their thread is asked to
// (QThread::requestInterruption: the app is closing).
class RequestCsv
{
    Q_DECLARE_TR_FUNCTIONS(RequestCsv)

public:
    struct Result
    {
        bool ok = false;
        qint64 rows = 0;
        QString error; // for the user, when !ok
    };

    static constexpr int kPageSize = 500;

    static QString header();
    static QString row(const StoredRequest &request);
    static QString cell(const QString &text);
    // The header and every row `filter` matches (its limit, offset and beforeId are ignored), newest first,
    // into `out`. False when the thread was asked to stop; `rows` counts the rows written.
    static bool writeRows(StatsSource &stats, RequestQuery filter, QIODevice &out, qint64 *rows);
    // The same into the file at `path`, replaced only once everything is written.
    static Result write(StatsSource &stats, const RequestQuery &filter, const QString &path);
};
