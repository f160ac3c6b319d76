#pragma once

#include "statssource.h"

#include <QElapsedTimer>
#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QStackedWidget;
class QTableWidget;
class QTimer;
class RateLimitView;
class ServiceBridge;
class StatCard;
class TokenChart;
struct RequestRecord;

// The dashboard: four cards (requests, waterfall rate, tokens today, average latency), the live rate-limit
// status of every entry with countdowns and a Reset for entries that cool down, tokens over time, usage per
// provider and per chain, and the latest requests. It loads once from the request log (on the bridge's stats
// thread), then follows requestFinished in memory and re-reads the totals from the log at most every few
// seconds while requests come in; it never polls and never touches the database on the GUI thread.
class DashboardPage : public QWidget
{
    Q_OBJECT

public:
    explicit DashboardPage(ServiceBridge *bridge, QWidget *parent = nullptr);
    ~DashboardPage() override;

    // Re-reads everything from the request log (a query on the stats thread).
    void reload();

    static constexpr int kRecentRows = 10;
    static constexpr int kRefreshMs = 3000; // at most one totals refresh per this while requests arrive

signals:
    void statsLoaded(); // a result from the request log was applied

private:
    struct Snapshot
    {
        StatsSummary summary;
        QList<UsageTotals> providers;
        QList<UsageTotals> chains;
        QList<StoredRequest> recent;
        QList<TimeseriesPoint> series;
        qint64 sinceMs = 0;
        qint64 nowMs = 0;
        bool hourly = true;
    };

    QWidget *buildSection(const QString &title, QWidget *content, QWidget *headerExtra = nullptr);
    QTableWidget *buildTable(const QString &name, const QStringList &headers, int stretchColumn);
    void apply(const Snapshot &snapshot);
    void onRequestFinished(const RequestRecord &record);
    void scheduleRefresh();
    void updateLimits();
    void showCards();
    void showUsage(QTableWidget *table, QStackedWidget *stack, const QList<UsageTotals> &rows);
    void showRecent();
    static void count(QList<UsageTotals> &rows, const QString &key, const RequestRecord &record);

    ServiceBridge *m_bridge;
    StatsSummary m_summary;
    qint64 m_latencySumMs = 0; // avg latency kept exact across live updates
    QList<UsageTotals> m_providers;
    QList<UsageTotals> m_chains;
    QList<StoredRequest> m_recent; // newest first; live rows have id 0
    QString m_liveDay;             // UTC day of the latest live record, to notice midnight
    bool m_loading = false;
    bool m_reloadAgain = false;
    QElapsedTimer m_clock;       // monotonic, for the refresh bookkeeping
    qint64 m_lastRecordAt = -1;  // m_clock time of the latest requestFinished
    qint64 m_queryIssuedAt = -1; // m_clock time the running load was sent

    StatCard *m_requestsCard = nullptr;
    StatCard *m_waterfallCard = nullptr;
    StatCard *m_tokensCard = nullptr;
    StatCard *m_latencyCard = nullptr;
    QLabel *m_notice = nullptr;
    RateLimitView *m_limits = nullptr;
    TokenChart *m_chart = nullptr;
    QComboBox *m_period = nullptr;
    QTableWidget *m_providerTable = nullptr;
    QTableWidget *m_chainTable = nullptr;
    QTableWidget *m_recentTable = nullptr;
    QStackedWidget *m_providerStack = nullptr;
    QStackedWidget *m_chainStack = nullptr;
    QStackedWidget *m_recentStack = nullptr;
    QTimer *m_refreshTimer = nullptr;
};
