#include "chainentriesmodel.h"

#include <QMimeData>

ChainEntriesModel::ChainEntriesModel(QObject *parent) : QAbstractTableModel(parent) {}

void ChainEntriesModel::setEntries(const QList<ChainEntry> &entries)
{
    beginResetModel();
    m_entries = entries;
    endResetModel();
}

void ChainEntriesModel::setProviderLabels(const QHash<QString, QString> &labels)
{
    m_providerLabels = labels;
    if (!m_entries.isEmpty())
        emit dataChanged(index(0, ProviderColumn), index(rowCount() - 1, ProviderColumn));
}

int ChainEntriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int ChainEntriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ChainEntriesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_entries.size())
        return QVariant();
    const ChainEntry &entry = m_entries.at(index.row());
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case PositionColumn:
            return role == Qt::DisplayRole
                       ? QVariant(index.row() + 1)
                       : QVariant(tr("Tried %1 of %2").arg(index.row() + 1).arg(rowCount()));
        case ProviderColumn:
            return m_providerLabels.value(entry.provider, entry.provider);
        case ModelColumn:
            return entry.model;
        default:
            break;
        }
    }
    if (role == Qt::AccessibleTextRole)
        return tr("%1. %2 / %3").arg(index.row() + 1).arg(entry.provider, entry.model);
    if (role == Qt::TextAlignmentRole && index.column() == PositionColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return QVariant();
}

QVariant ChainEntriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case PositionColumn:
        return tr("#");
    case ProviderColumn:
        return tr("Provider");
    case ModelColumn:
        return tr("Model");
    default:
        return QVariant();
    }
}

Qt::ItemFlags ChainEntriesModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::ItemIsDropEnabled; // drops land between rows
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled;
}

bool ChainEntriesModel::moveRows(const QModelIndex &sourceParent, int sourceRow, int count,
                                 const QModelIndex &destinationParent, int destinationChild)
{
    if (sourceParent.isValid() || destinationParent.isValid() || count != 1 || sourceRow < 0 ||
        sourceRow >= m_entries.size() || destinationChild < 0 || destinationChild > m_entries.size())
        return false;
    if (destinationChild == sourceRow || destinationChild == sourceRow + 1)
        return false; // it is there already
    if (!beginMoveRows(QModelIndex(), sourceRow, sourceRow, QModelIndex(), destinationChild))
        return false;
    const int to = destinationChild > sourceRow ? destinationChild - 1 : destinationChild;
    m_entries.move(sourceRow, to);
    endMoveRows();
    // The position column counts 1..n: every row between changed.
    emit dataChanged(index(qMin(sourceRow, to), PositionColumn), index(qMax(sourceRow, to), PositionColumn));
    emit reordered(sourceRow, to);
    return true;
}

QStringList ChainEntriesModel::mimeTypes() const
{
    return {mimeType()};
}

QMimeData *ChainEntriesModel::mimeData(const QModelIndexList &indexes) const
{
    if (indexes.isEmpty() || !indexes.first().isValid())
        return nullptr;
    auto *data = new QMimeData;
    const int row = indexes.first().row();
    data->setData(mimeType(), QByteArray::number(row));
    const ChainEntry &entry = m_entries.at(row);
    data->setText(entry.provider + QLatin1String(" / ") + entry.model);
    return data;
}

int ChainEntriesModel::draggedRow(const QMimeData *data) const
{
    if (!data || !data->hasFormat(mimeType()))
        return -1;
    bool ok = false;
    const int row = data->data(mimeType()).toInt(&ok);
    return ok && row >= 0 && row < m_entries.size() ? row : -1;
}

bool ChainEntriesModel::canDropMimeData(const QMimeData *data, Qt::DropAction action, int, int,
                                        const QModelIndex &) const
{
    return action == Qt::MoveAction && draggedRow(data) >= 0;
}

bool ChainEntriesModel::dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int,
                                     const QModelIndex &parent)
{
    const int from = draggedRow(data);
    if (action != Qt::MoveAction || from < 0)
        return false;
    int before = row;
    if (before < 0)
        before =
            parent.isValid() ? parent.row() : int(m_entries.size()); // on a row: before it; below all: last
    if (before == from || before == from + 1)
        return true; // dropped where it was: nothing to save
    return moveRows(QModelIndex(), from, 1, QModelIndex(), before);
}
