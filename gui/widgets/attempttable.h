#pragma once

#include "requestrecord.h"

#include <QTableWidget>

// The attempts of one request, one row each: which entry, what happened (in words), the upstream status, how
// long it took and why it was skipped or failed. Used by the log's detail pane and the test prompt page.
class AttemptTable : public QTableWidget
{
    Q_OBJECT

public:
    explicit AttemptTable(QWidget *parent = nullptr);
    void setAttempts(const QList<AttemptRecord> &attempts);
};
