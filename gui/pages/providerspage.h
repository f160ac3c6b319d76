#pragma once

#include "ratelimittracker.h"

#include <QHash>
#include <QTimer>
#include <QWidget>

class QLabel;
class QPushButton;
class QStackedWidget;
class QTableWidget;
class ServiceBridge;
class StatusBanner;

// The Providers page: every configured provider with its type, base URL, live status (from the limiter
// snapshot: available, cooling down with a countdown, exhausted) and today's requests (from the request log
// on the stats thread). Add / Edit open ProviderDialog; Delete asks first and shows the core's refusal while
// a chain still uses the provider. Keyboard: Enter edits, Delete deletes, Insert adds.
class ProvidersPage : public QWidget
{
    Q_OBJECT

public:
    explicit ProvidersPage(ServiceBridge *bridge, QWidget *parent = nullptr);

    // "Available", "Cooling down 1:23", "Exhausted", … for one provider; `nextChangeMs` gets the earliest
    // known end of a cooldown (0 if none). Public for tests.
    static QString statusText(const QString &providerId, const QList<RateLimitTracker::PairStatus> &pairs,
                              qint64 nowMs, qint64 *nextChangeMs = nullptr, QString *details = nullptr);
    static QString countdown(qint64 ms); // "0:45", "12:03", "1:02:03", "2 d 4 h"

public slots:
    void addProvider();
    void editSelected();
    void deleteSelected();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void reload();
    void refreshStatus();
    void refreshUsage();
    void updateButtons();
    QString selectedId() const;
    void selectId(const QString &id);

    ServiceBridge *m_bridge;
    StatusBanner *m_banner;
    QStackedWidget *m_stack;
    QTableWidget *m_table;
    QPushButton *m_add;
    QPushButton *m_edit;
    QPushButton *m_delete;
    QTimer m_tick;          // counts the cooldowns down while one is shown
    QTimer m_usageDebounce; // many finished requests, one query
    QHash<QString, qint64> m_requestsToday;
    bool m_usageKnown = false;
};
