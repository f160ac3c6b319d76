#pragma once

#include "requestrecord.h"

#include <QWidget>

class AttemptTable;
class QFormLayout;
class QLabel;
class QStackedWidget;

// One request of the log in full: when, which chain, who served it, status, latency, first token, tokens,
// client key, error, and every attempt with its outcome and reason.
class RequestDetailView : public QWidget
{
    Q_OBJECT

public:
    explicit RequestDetailView(QWidget *parent = nullptr);

    void showRequest(qint64 id, const RequestRecord &record); // id 0: not in the log yet
    void showMessage(const QString &text);                    // "Loading…", "Select a request…", an error
    AttemptTable *attempts() const { return m_attempts; }
    QString heading() const;

private:
    QLabel *fact(QFormLayout *form, const QString &label);

    QStackedWidget *m_stack = nullptr;
    QLabel *m_message = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_time = nullptr;
    QLabel *m_chain = nullptr;
    QLabel *m_servedBy = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_latency = nullptr;
    QLabel *m_firstToken = nullptr;
    QLabel *m_tokens = nullptr;
    QLabel *m_client = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_attemptsTitle = nullptr;
    AttemptTable *m_attempts = nullptr;
};
