#pragma once

#include "requestcsv.h"
#include "statssource.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QStackedWidget;
class QTableView;
class QTimer;
class RequestDetailView;
class RequestLogModel;
class ServiceBridge;
struct RequestRecord;

// The request log: a table of requests (time, chain, provider/model, status, latency, tokens, attempts)
// with filters (chain, provider, status class, period), "Load more" paging that stays stable while new rows
// arrive (beforeId), the attempts of the selected request, and a CSV export written on the stats thread.
// Requests that finish while the page is open appear at the top when the filters let them through.
class LogPage : public QWidget
{
    Q_OBJECT

public:
    explicit LogPage(ServiceBridge *bridge, QWidget *parent = nullptr);
    ~LogPage() override;

    static constexpr int kPageSize = 50;

    // Writes every request the filters match to `path` (no dialog); csvExported() follows.
    void exportCsv(const QString &path);
    // Reads the first page again with the current filters.
    void reload();
    RequestQuery currentQuery() const; // the filters as a query (limit and paging not set)
    bool matchesFilters(const RequestRecord &record) const;

signals:
    void pageLoaded();   // a page from the log was applied
    void detailLoaded(); // the detail pane shows the selected request
    void csvExported(bool ok, qint64 rows, const QString &error);

private:
    void buildFilters(QWidget *bar);
    void fillNameFilters();
    void loadMore();
    // Asks the stats thread for one page of the filtered log: the newest rows (beforeId 0, they replace the
    // list) or the rows older than beforeId (added below).
    void fetchPage(qint64 beforeId);
    void onRequestFinished(const RequestRecord &record);
    void syncNewest();
    void showSelected();
    void chooseExportFile();
    void updateState();

    ServiceBridge *m_bridge;
    RequestLogModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    RequestDetailView *m_detail = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_empty = nullptr;
    QLabel *m_status = nullptr;
    QComboBox *m_chain = nullptr;
    QComboBox *m_provider = nullptr;
    QComboBox *m_statusFilter = nullptr;
    QComboBox *m_period = nullptr;
    QPushButton *m_loadMore = nullptr;
    QPushButton *m_refresh = nullptr;
    QPushButton *m_export = nullptr;
    QTimer *m_syncTimer = nullptr;
    int m_generation = 0;       // bumps with every filter change: late answers of older queries are dropped
    int m_detailGeneration = 0; // the same for the detail pane
    int m_syncTries = 0;
    bool m_loading = false;
    bool m_morePossible = false;
    bool m_exporting = false;
};
