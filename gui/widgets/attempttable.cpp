#include "attempttable.h"
#include "displayformat.h"
#include "pageparts.h"

#include <QHeaderView>

using PageParts::cell;

namespace {

enum Column {
    NumberColumn,
    EntryColumn,
    OutcomeColumn,
    StatusColumn,
    LatencyColumn,
    ReasonColumn,
    ColumnCount
};

} // namespace

AttemptTable::AttemptTable(QWidget *parent) : QTableWidget(0, ColumnCount, parent)
{
    setAccessibleName(tr("Attempts"));
    setHorizontalHeaderLabels(
        {tr("#"), tr("Entry"), tr("Outcome"), tr("Status"), tr("Latency"), tr("Reason")});
    verticalHeader()->hide();
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    setSelectionMode(QAbstractItemView::SingleSelection);
    setShowGrid(false);
    setAlternatingRowColors(true);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    QHeaderView *header = horizontalHeader();
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    for (int column = 0; column < ColumnCount; ++column)
        header->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    header->setSectionResizeMode(ReasonColumn, QHeaderView::Stretch);
}

void AttemptTable::setAttempts(const QList<AttemptRecord> &attempts)
{
    setRowCount(int(attempts.size()));
    for (int row = 0; row < attempts.size(); ++row) {
        const AttemptRecord &a = attempts.at(row);
        setItem(row, NumberColumn, cell(QString::number(row + 1), true));
        setItem(row, EntryColumn, cell(DisplayFormat::entry(a.provider, a.model)));
        auto *outcome = cell(DisplayFormat::outcome(a.outcome));
        if (a.outcome == AttemptRecord::Outcome::Success)
            outcome->setForeground(DisplayFormat::statusColor(200));
        else if (a.outcome == AttemptRecord::Outcome::RateLimited)
            outcome->setForeground(DisplayFormat::statusColor(429));
        else if (a.outcome != AttemptRecord::Outcome::Skipped)
            outcome->setForeground(DisplayFormat::statusColor(500));
        setItem(row, OutcomeColumn, outcome);
        setItem(row, StatusColumn,
                cell(a.status > 0 ? QString::number(a.status) : DisplayFormat::placeholder(), true));
        setItem(row, LatencyColumn, cell(DisplayFormat::duration(a.latencyMs), true));
        setItem(row, ReasonColumn, cell(a.reason.isEmpty() ? DisplayFormat::placeholder() : a.reason));
    }
}
