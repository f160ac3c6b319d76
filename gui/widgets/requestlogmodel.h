#pragma once

#include "statssource.h"

#include <QAbstractTableModel>
#include <QList>

// The rows of the log page: requests from the log (newest first) plus requests that just finished and are not
// written yet (id 0, shown at the top until the log has them). Rows are inserted and removed, never reset,
// so a selection stays on its request while rows arrive.
class RequestLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        TimeColumn,
        ChainColumn,
        ServedByColumn,
        StatusColumn,
        LatencyColumn,
        TokensColumn,
        AttemptsColumn,
        ColumnCount
    };

    explicit RequestLogModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // A fresh first page: replaces the stored rows; live rows the page does not hold yet stay on top.
    void setStored(const QList<StoredRequest> &rows);
    // An older page ("Load more").
    void appendStored(const QList<StoredRequest> &rows);
    // Rows newer than every stored row; they replace the live rows they are.
    void mergeNewest(const QList<StoredRequest> &rows);
    void addLive(const RequestRecord &record);
    void clear();

    const StoredRequest &at(int row) const { return m_rows.at(row); }
    qint64 newestStoredId() const;
    qint64 oldestStoredId() const;
    int liveCount() const;

private:
    static bool same(const RequestRecord &a, const RequestRecord &b);
    void dropLiveMatching(const QList<StoredRequest> &rows);

    QList<StoredRequest> m_rows;
};
