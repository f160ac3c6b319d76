#pragma once

#include "requestrecord.h"

#include <QColor>
#include <QCoreApplication>
#include <QString>

// How the live pages (dashboard, log, test prompt) write numbers, durations, times and outcomes, so the same
// value reads the same everywhere. Status colours are only ever an addition to the status text.
class DisplayFormat
{
    Q_DECLARE_TR_FUNCTIONS(DisplayFormat)

public:
    static QString integer(qint64 value);              // "12,345" in the user's locale
    static QString duration(qint64 ms);                // "850 ms", "1.23 s", "2 m 05 s"; "–" when < 0
    static QString countdown(qint64 ms);               // "45 s", "2 m 05 s", "1 h 03 m", "2 d 4 h"
    static QString percent(qint64 part, qint64 whole); // "12.5 %"; "–" when whole is 0
    static QString time(qint64 epochMs);               // "14:03:12" today, else "28 Nov 14:03"
    static QString dateTime(qint64 epochMs);           // the full local date and time
    static QString entry(const QString &provider, const QString &model); // "groq / llama-3.1-8b"
    static QString status(int httpStatus);                  // "200 served", "429 exhausted", "502 failed"
    static QString outcome(AttemptRecord::Outcome outcome); // "served", "rate limited", …
    static QString tokens(const RequestRecord &record);     // "1,234", or "≈1,234" when estimated
    static QColor statusColor(int httpStatus);              // green / amber / red, for text
    static QString placeholder() { return QStringLiteral("–"); }
};
