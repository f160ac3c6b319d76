#pragma once

#include "requestrecord.h"

#include <QList>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

// Writes batches of request records over one connection (the writer thread's), one transaction each: the
// rows with the replica's name, their attempts, and the daily rollups upserted in the same transaction (so
// the rollups always equal the sum of the rows written). The four statements are prepared on first use and
// belong to the connection: drop this object before the connection closes. Used by RequestWriter.
class RequestBatch
{
public:
    explicit RequestBatch(const QSqlDatabase &db);

    // False with `error` set when the transaction was rolled back (nothing of the batch is written).
    bool write(const QList<RequestRecord> &batch, QString *error);

private:
    bool prepare(QString *error);
    bool writeRows(const QList<RequestRecord> &batch, QString *error);

    QSqlDatabase m_db;
    bool m_prepared = false;
    bool m_returningId = false; // PostgreSQL: the insert hands the new id back as a row
    QSqlQuery m_insertRequest;
    QSqlQuery m_insertAttempt;
    QSqlQuery m_upsertProvider;
    QSqlQuery m_upsertChain;
};
