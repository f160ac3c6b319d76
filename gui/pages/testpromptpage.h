#pragma once

#include "servicebridge.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QWidget>

class AttemptTable;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTimer;

// Test prompt: pick a chain, write a prompt (and optionally a system prompt), Send (Ctrl+Enter) streams the
// answer into the pane through the proxy as a client would, with who served it, the attempts and why earlier
// entries were skipped, time to first token, latency and tokens; Stop (Esc) cancels. "Test whole chain" asks
// every entry once, outside the waterfall, and shows a row per entry.
class TestPromptPage : public QWidget
{
    Q_OBJECT

public:
    explicit TestPromptPage(ServiceBridge *bridge, QWidget *parent = nullptr);
    ~TestPromptPage() override;

    void send();
    void stop();
    void testWholeChain();
    bool isBusy() const;

signals:
    void chatFinished();      // the answer pane shows a whole outcome
    void chainTestFinished(); // the whole-chain table is filled (or shows why not)

private:
    void fillChains();
    void setBusy(bool busy);
    void onDelta(const QString &text);
    void onReasoning(const QString &text);
    void onFinished(const RequestRecord &record, const QString &errorMessage);
    void onChainTested(const QString &chain, const ServiceBridge::ChainTestResult &result);
    void showOutcome(const QString &text, bool error);
    void tickLatency();

    ServiceBridge *m_bridge;
    QPointer<GuiChat> m_chat;
    bool m_stopRequested = false;
    bool m_chainTestRunning = false;
    bool m_sawFirstToken = false;
    QElapsedTimer m_elapsed;

    QComboBox *m_chain = nullptr;
    QLabel *m_noChains = nullptr;
    QPlainTextEdit *m_system = nullptr;
    QPlainTextEdit *m_prompt = nullptr;
    QPushButton *m_send = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_testChain = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_answer = nullptr;
    QPlainTextEdit *m_reasoning = nullptr;
    QLabel *m_reasoningTitle = nullptr;
    QLabel *m_outcome = nullptr;
    QLabel *m_servedBy = nullptr;
    QLabel *m_attemptCount = nullptr;
    QLabel *m_firstToken = nullptr;
    QLabel *m_latency = nullptr;
    QLabel *m_tokens = nullptr;
    AttemptTable *m_attempts = nullptr;
    QLabel *m_chainSummary = nullptr;
    QTableWidget *m_chainTable = nullptr;
    QTimer *m_ticker = nullptr;
};
