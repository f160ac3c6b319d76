#pragma once

#include "statssource.h"

#include <QCoreApplication>
#include <QString>

// The request log as CSV (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote or line break
// in double quotes, quotes doubled). Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a
// leading apostrophe. write() pages through the log with beforeId, so it runs on the stats thread whatever
// the size of the log, and replaces the file only once everything is written; it stops between pages when
// its thread is asked to (QThread::requestInterruption: the app is closing).
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
    // Every row `filter` matches (its limit, offset and beforeId are ignored), newest first.
    static Result write(StatsSource &stats, RequestQuery filter, const QString &path);
};
