#include "requestlogmodel.h"
#include "displayformat.h"

#include <algorithm>

RequestLogModel::RequestLogModel(QObject *parent) : QAbstractTableModel(parent) {}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole)
        return section >= LatencyColumn ? int(Qt::AlignRight | Qt::AlignVCenter)
                                        : int(Qt::AlignLeft | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case ChainColumn:
        return tr("Chain");
    case ServedByColumn:
        return tr("Provider / model");
    case StatusColumn:
        return tr("Status");
    case LatencyColumn:
        return tr("Latency");
    case TokensColumn:
        return tr("Tokens");
    case AttemptsColumn:
        return tr("Attempts");
    default:
        return {};
    }
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const StoredRequest &row = m_rows.at(index.row());
    const RequestRecord &r = row.record;
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case TimeColumn:
            return role == Qt::ToolTipRole ? DisplayFormat::dateTime(r.startedAtMs)
                                           : DisplayFormat::time(r.startedAtMs);
        case ChainColumn:
            return r.chain;
        case ServedByColumn:
            return DisplayFormat::entry(r.provider, r.model);
        case StatusColumn:
            return role == Qt::ToolTipRole && !r.error.isEmpty() ? r.error : DisplayFormat::status(r.status);
        case LatencyColumn:
            return DisplayFormat::duration(r.latencyMs);
        case TokensColumn:
            return role == Qt::ToolTipRole && r.tokensEstimated
                       ? tr("%1 (estimated: the provider sent no usage)").arg(DisplayFormat::tokens(r))
                       : DisplayFormat::tokens(r);
        case AttemptsColumn:
            return DisplayFormat::integer(row.attemptCount);
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole)
        return index.column() >= LatencyColumn ? int(Qt::AlignRight | Qt::AlignVCenter)
                                               : int(Qt::AlignLeft | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && index.column() == StatusColumn) {
        const QColor color = DisplayFormat::statusColor(r.status);
        return color.isValid() ? QVariant(color) : QVariant();
    }
    if (role == Qt::UserRole)
        return row.id;
    return {};
}

void RequestLogModel::setStored(const QList<StoredRequest> &rows)
{
    QList<StoredRequest> live;
    for (const StoredRequest &row : std::as_const(m_rows)) {
        if (row.id == 0 && std::none_of(rows.begin(), rows.end(),
                                        [&](const StoredRequest &s) { return same(s.record, row.record); }))
            live.append(row);
    }
    beginResetModel();
    m_rows = live + rows;
    endResetModel();
}

void RequestLogModel::appendStored(const QList<StoredRequest> &rows)
{
    if (rows.isEmpty())
        return;
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + rows.size() - 1));
    m_rows.append(rows);
    endInsertRows();
}

void RequestLogModel::mergeNewest(const QList<StoredRequest> &rows)
{
    if (rows.isEmpty())
        return;
    dropLiveMatching(rows);
    const int at = liveCount(); // live rows that are still unwritten stay on top
    beginInsertRows({}, at, int(at + rows.size() - 1));
    for (int i = 0; i < rows.size(); ++i)
        m_rows.insert(at + i, rows.at(i));
    endInsertRows();
}

void RequestLogModel::addLive(const RequestRecord &record)
{
    StoredRequest row;
    row.record = record;
    row.attemptCount = int(record.attempts.size());
    beginInsertRows({}, 0, 0);
    m_rows.prepend(row);
    endInsertRows();
}

void RequestLogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

qint64 RequestLogModel::newestStoredId() const
{
    qint64 newest = 0;
    for (const StoredRequest &row : m_rows)
        newest = std::max(newest, row.id);
    return newest;
}

qint64 RequestLogModel::oldestStoredId() const
{
    for (auto it = m_rows.crbegin(); it != m_rows.crend(); ++it) {
        if (it->id > 0)
            return it->id;
    }
    return 0;
}

int RequestLogModel::liveCount() const
{
    return int(std::count_if(m_rows.begin(), m_rows.end(), [](const StoredRequest &r) { return r.id == 0; }));
}

bool RequestLogModel::same(const RequestRecord &a, const RequestRecord &b)
{
    return a.startedAtMs == b.startedAtMs && a.chain == b.chain && a.provider == b.provider &&
           a.status == b.status && a.latencyMs == b.latencyMs;
}

void RequestLogModel::dropLiveMatching(const QList<StoredRequest> &rows)
{
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (m_rows.at(i).id != 0)
            continue;
        const RequestRecord &live = m_rows.at(i).record;
        if (std::any_of(rows.begin(), rows.end(),
                        [&](const StoredRequest &s) { return same(s.record, live); })) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
}
