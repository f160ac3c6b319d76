#pragma once

#include "config.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

// The entries of one chain for the Chains page's table: position, provider, model. Rows move by drag and drop
// (a private MIME type carrying the dragged row) and by moveRows() (the page's Move up / Move down); either
// way reordered() follows, and the page saves the new order. Rows are never removed by a drag: removeRows()
// is not offered, so a move inside the view cannot lose an entry.
class ChainEntriesModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { PositionColumn, ProviderColumn, ModelColumn, ColumnCount };

    explicit ChainEntriesModel(QObject *parent = nullptr);

    void setEntries(const QList<ChainEntry> &entries);
    const QList<ChainEntry> &entries() const { return m_entries; }
    // Provider display names ("Groq (groq)"), for the provider column; ids without one are shown as they are.
    void setProviderLabels(const QHash<QString, QString> &labels);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    // One row at a time (the view selects single rows). destinationChild as in QAbstractItemModel: the row
    // the moved one ends up before, counted before the move.
    bool moveRows(const QModelIndex &sourceParent, int sourceRow, int count,
                  const QModelIndex &destinationParent, int destinationChild) override;

    Qt::DropActions supportedDropActions() const override { return Qt::MoveAction; }
    Qt::DropActions supportedDragActions() const override { return Qt::MoveAction; }
    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QModelIndexList &indexes) const override;
    bool canDropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column,
                         const QModelIndex &parent) const override;
    bool dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column,
                      const QModelIndex &parent) override;

    static QString mimeType() { return QStringLiteral("application/x-429chain-chain-entry"); }

signals:
    // The user moved `from` to `to` (final row index); entries() has the new order.
    void reordered(int from, int to);

private:
    int draggedRow(const QMimeData *data) const;

    QList<ChainEntry> m_entries;
    QHash<QString, QString> m_providerLabels;
};
