#include "testpromptpage.h"
#include "attempttable.h"
#include "displayformat.h"
#include "pageparts.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

using PageParts::cell;

namespace {

enum ChainColumn {
    NumberColumn,
    ProviderColumn,
    ModelColumn,
    ResultColumn,
    LatencyColumn,
    TokensColumn,
    AnswerColumn,
    ChainColumnCount
};

QString tokenText(qint64 prompt, qint64 completion, qint64 total, bool estimated)
{
    const QString text = TestPromptPage::tr("%1 prompt + %2 completion = %3")
                             .arg(DisplayFormat::integer(prompt), DisplayFormat::integer(completion),
                                  DisplayFormat::integer(total));
    return estimated ? TestPromptPage::tr("%1 (estimated)").arg(text) : text;
}

} // namespace

TestPromptPage::TestPromptPage(ServiceBridge *bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 18, 18, 18);
    layout->setSpacing(12);

    auto *title = PageParts::title(tr("Test prompt"), this);
    layout->addWidget(title);

    // The question.
    auto *form = new QFormLayout;
    form->setHorizontalSpacing(12);
    form->setVerticalSpacing(8);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignTop);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    auto *chainRow = new QHBoxLayout;
    m_chain = new QComboBox(this);
    m_chain->setObjectName(QStringLiteral("chainCombo"));
    m_chain->setAccessibleName(tr("Chain"));
    m_chain->setMinimumContentsLength(20);
    m_chain->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_chain->setToolTip(tr("The model name a client sends picks the chain."));
    chainRow->addWidget(m_chain);
    m_noChains = new QLabel(tr("No chains yet — create one on the Chains page first."), this);
    m_noChains->setObjectName(QStringLiteral("noChains"));
    m_noChains->setForegroundRole(QPalette::PlaceholderText);
    chainRow->addWidget(m_noChains, 1);
    chainRow->addStretch();
    form->addRow(tr("&Chain:"), chainRow);
    qobject_cast<QLabel *>(form->labelForField(chainRow))->setBuddy(m_chain);

    m_system = new QPlainTextEdit(this);
    m_system->setObjectName(QStringLiteral("systemPrompt"));
    m_system->setAccessibleName(tr("System prompt (optional)"));
    m_system->setPlaceholderText(tr("Optional, e.g. You are a helpful assistant."));
    m_system->setTabChangesFocus(true);
    m_system->setFixedHeight(m_system->fontMetrics().lineSpacing() * 2 + 14);
    form->addRow(tr("S&ystem prompt:"), m_system);
    qobject_cast<QLabel *>(form->labelForField(m_system))->setBuddy(m_system);

    m_prompt = new QPlainTextEdit(this);
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setAccessibleName(tr("Prompt"));
    m_prompt->setPlaceholderText(tr("Write a prompt, then press Ctrl+Enter to send it."));
    m_prompt->setPlainText(tr("Hello! Who are you, in two sentences?"));
    m_prompt->setTabChangesFocus(true);
    m_prompt->setFixedHeight(m_prompt->fontMetrics().lineSpacing() * 4 + 14);
    form->addRow(tr("&Prompt:"), m_prompt);
    qobject_cast<QLabel *>(form->labelForField(m_prompt))->setBuddy(m_prompt);
    layout->addLayout(form);

    auto *buttons = new QHBoxLayout;
    m_send = new QPushButton(tr("&Send"), this);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_send->setToolTip(tr("Send the prompt through the chain (Ctrl+Enter)"));
    m_send->setDefault(true);
    m_stop = new QPushButton(tr("S&top"), this);
    m_stop->setObjectName(QStringLiteral("stopButton"));
    m_stop->setToolTip(tr("Cancel the answer (Esc)"));
    m_testChain = new QPushButton(tr("Test &whole chain"), this);
    m_testChain->setObjectName(QStringLiteral("testChainButton"));
    m_testChain->setToolTip(tr("Ask every entry of the chain once, outside the waterfall and its limits"));
    buttons->addWidget(m_send);
    buttons->addWidget(m_stop);
    buttons->addStretch(1);
    buttons->addWidget(m_testChain);
    layout->addLayout(buttons);

    // The answer.
    auto *answerPage = new QWidget(this);
    auto *answerLayout = new QVBoxLayout(answerPage);
    answerLayout->setContentsMargins(10, 10, 10, 10);
    answerLayout->setSpacing(8);
    m_answer = new QPlainTextEdit(answerPage);
    m_answer->setObjectName(QStringLiteral("answerView"));
    m_answer->setAccessibleName(tr("Answer"));
    m_answer->setReadOnly(true);
    m_answer->setPlaceholderText(tr("The answer appears here as it streams in."));
    m_answer->setTabChangesFocus(true);
    m_reasoningTitle = new QLabel(tr("Reasoning"), answerPage);
    m_reasoning = new QPlainTextEdit(answerPage);
    m_reasoning->setObjectName(QStringLiteral("reasoningView"));
    m_reasoning->setAccessibleName(tr("Reasoning"));
    m_reasoning->setReadOnly(true);
    m_reasoning->setTabChangesFocus(true);
    m_reasoning->setMaximumHeight(m_reasoning->fontMetrics().lineSpacing() * 4 + 14);
    m_reasoningTitle->setBuddy(m_reasoning);
    m_reasoningTitle->hide();
    m_reasoning->hide();
    answerLayout->addWidget(m_reasoningTitle);
    answerLayout->addWidget(m_reasoning);
    answerLayout->addWidget(m_answer, 3);

    m_outcome = new QLabel(answerPage);
    m_outcome->setObjectName(QStringLiteral("outcomeLabel"));
    m_outcome->setWordWrap(true);
    m_outcome->setTextInteractionFlags(Qt::TextSelectableByMouse);
    answerLayout->addWidget(m_outcome);

    auto *facts = new QGridLayout;
    facts->setHorizontalSpacing(12);
    facts->setVerticalSpacing(4);
    auto addFact = [&](const QString &label, const QString &name, int row, int column) {
        auto *caption = new QLabel(label, answerPage);
        caption->setForegroundRole(QPalette::PlaceholderText);
        auto *value = new QLabel(DisplayFormat::placeholder(), answerPage);
        value->setObjectName(name);
        value->setAccessibleName(label);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        caption->setBuddy(value);
        facts->addWidget(caption, row, column * 2);
        facts->addWidget(value, row, column * 2 + 1);
        return value;
    };
    m_servedBy = addFact(tr("Served by"), QStringLiteral("servedByValue"), 0, 0);
    m_attemptCount = addFact(tr("Attempts"), QStringLiteral("attemptsValue"), 1, 0);
    m_firstToken = addFact(tr("First token"), QStringLiteral("firstTokenValue"), 0, 1);
    m_latency = addFact(tr("Latency"), QStringLiteral("latencyValue"), 1, 1);
    m_tokens = addFact(tr("Tokens"), QStringLiteral("tokensValue"), 0, 2);
    facts->setColumnStretch(1, 2);
    facts->setColumnStretch(3, 1);
    facts->setColumnStretch(5, 2);
    answerLayout->addLayout(facts);

    m_attempts = new AttemptTable(answerPage);
    m_attempts->setObjectName(QStringLiteral("attemptTable"));
    m_attempts->setMaximumHeight(m_attempts->fontMetrics().height() * 7 + 20);
    answerLayout->addWidget(m_attempts, 1);

    // The whole-chain test.
    auto *chainPage = new QWidget(this);
    auto *chainLayout = new QVBoxLayout(chainPage);
    chainLayout->setContentsMargins(10, 10, 10, 10);
    m_chainSummary = new QLabel(tr("Test whole chain asks every entry of the chosen chain once and shows how "
                                   "each one answered."),
                                chainPage);
    m_chainSummary->setObjectName(QStringLiteral("chainTestSummary"));
    m_chainSummary->setWordWrap(true);
    chainLayout->addWidget(m_chainSummary);
    m_chainTable = new QTableWidget(0, ChainColumnCount, chainPage);
    m_chainTable->setObjectName(QStringLiteral("chainTestTable"));
    m_chainTable->setAccessibleName(tr("Entry results"));
    m_chainTable->setHorizontalHeaderLabels({tr("#"), tr("Provider"), tr("Model"), tr("Result"),
                                             tr("Latency"), tr("Tokens"), tr("Answer or error")});
    m_chainTable->verticalHeader()->hide();
    m_chainTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_chainTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_chainTable->setTabKeyNavigation(false); // Tab leaves the table; arrows move in it
    m_chainTable->setShowGrid(false);
    m_chainTable->setAlternatingRowColors(true);
    m_chainTable->setWordWrap(false);
    QHeaderView *header = m_chainTable->horizontalHeader();
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    for (int column = 0; column < ChainColumnCount; ++column)
        header->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    header->setSectionResizeMode(AnswerColumn, QHeaderView::Stretch);
    chainLayout->addWidget(m_chainTable, 1);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("resultTabs"));
    m_tabs->addTab(answerPage, tr("&Answer"));
    m_tabs->addTab(chainPage, tr("Whole &chain"));
    layout->addWidget(m_tabs, 1);

    auto *sendShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    sendShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    auto *sendShortcut2 = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this);
    sendShortcut2->setContext(Qt::WidgetWithChildrenShortcut);
    auto *stopShortcut = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    stopShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(sendShortcut, &QShortcut::activated, this, &TestPromptPage::send);
    connect(sendShortcut2, &QShortcut::activated, this, &TestPromptPage::send);
    connect(stopShortcut, &QShortcut::activated, this, &TestPromptPage::stop);
    connect(m_send, &QPushButton::clicked, this, &TestPromptPage::send);
    connect(m_stop, &QPushButton::clicked, this, &TestPromptPage::stop);
    connect(m_testChain, &QPushButton::clicked, this, &TestPromptPage::testWholeChain);
    connect(m_bridge, &ServiceBridge::configChanged, this, &TestPromptPage::fillChains);

    m_ticker = new QTimer(this);
    m_ticker->setInterval(100);
    connect(m_ticker, &QTimer::timeout, this, &TestPromptPage::tickLatency);

    setTabOrder(m_chain, m_system);
    setTabOrder(m_system, m_prompt);
    setTabOrder(m_prompt, m_send);
    setTabOrder(m_send, m_stop);
    setTabOrder(m_stop, m_testChain);
    setTabOrder(m_testChain, m_tabs);

    fillChains();
    setBusy(false);
}

TestPromptPage::~TestPromptPage()
{
    if (m_chat)
        m_chat->stop();
    delete m_chat; // a chat still running is dropped upstream, as for a client that left
}

bool TestPromptPage::isBusy() const
{
    return m_chat || m_chainTestRunning;
}

void TestPromptPage::fillChains()
{
    const auto config = m_bridge->config();
    const QString current = m_chain->currentText();
    m_chain->clear();
    QString preferred = current;
    if (config) {
        for (const ChainConfig &chain : config->chains)
            m_chain->addItem(chain.name);
        if (preferred.isEmpty() || m_chain->findText(preferred) < 0)
            preferred = config->settings.defaultChain;
    }
    const int index = m_chain->findText(preferred);
    m_chain->setCurrentIndex(index >= 0 ? index : 0);
    m_noChains->setVisible(m_chain->count() == 0);
    m_chain->setVisible(m_chain->count() > 0);
    setBusy(isBusy());
}

void TestPromptPage::setBusy(bool busy)
{
    const bool haveChain = m_chain->count() > 0;
    // The keyboard goes from Send to Stop and back, and from Test whole chain to its results: a button that
    // loses its focus by being disabled would hand it to whatever comes next in the tab order (here, a
    // disabled button's neighbour further down).
    const bool sendHadFocus = m_send->hasFocus();
    const bool testHadFocus = m_testChain->hasFocus();
    const bool stopHadFocus = m_stop->hasFocus();
    m_stop->setEnabled(m_chat != nullptr);
    if (sendHadFocus && m_stop->isEnabled())
        m_stop->setFocus();
    else if (testHadFocus && busy && m_chainTable->isVisible())
        m_chainTable->setFocus();
    m_send->setEnabled(!busy && haveChain);
    m_testChain->setEnabled(!busy && haveChain);
    if (stopHadFocus && !m_stop->isEnabled() && m_send->isEnabled())
        m_send->setFocus();
    m_chain->setEnabled(!busy);
    m_answer->setProperty("busy", busy);
}

void TestPromptPage::send()
{
    if (isBusy() || m_chain->count() == 0)
        return;
    const QString prompt = m_prompt->toPlainText().trimmed();
    if (prompt.isEmpty()) {
        showOutcome(tr("Type a prompt first."), true);
        m_prompt->setFocus();
        return;
    }
    QJsonArray messages;
    const QString system = m_system->toPlainText().trimmed();
    if (!system.isEmpty())
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                    {QStringLiteral("content"), system}});
    messages.append(
        QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), prompt}});
    const QJsonObject body{{QStringLiteral("model"), m_chain->currentText()},
                           {QStringLiteral("stream"), true},
                           {QStringLiteral("messages"), messages}};

    m_answer->clear();
    m_reasoning->clear();
    m_reasoning->hide();
    m_reasoningTitle->hide();
    for (QLabel *label : {m_servedBy, m_attemptCount, m_firstToken, m_latency, m_tokens})
        label->setText(DisplayFormat::placeholder());
    m_attempts->setAttempts({});
    showOutcome(tr("Waiting for the first token…"), false);
    m_tabs->setCurrentIndex(0);
    m_stopRequested = false;
    m_sawFirstToken = false;
    m_elapsed.start();
    m_ticker->start();

    m_chat = m_bridge->startChat(body);
    m_chat->setParent(this);
    connect(m_chat, &GuiChat::textDelta, this, &TestPromptPage::onDelta);
    connect(m_chat, &GuiChat::reasoningDelta, this, &TestPromptPage::onReasoning);
    connect(m_chat, &GuiChat::finished, this, &TestPromptPage::onFinished);
    setBusy(true);
}

void TestPromptPage::stop()
{
    if (!m_chat)
        return;
    m_stopRequested = true;
    showOutcome(tr("Stopping…"), false);
    m_chat->stop();
}

void TestPromptPage::onDelta(const QString &text)
{
    if (!m_sawFirstToken) {
        m_sawFirstToken = true;
        m_firstToken->setText(DisplayFormat::duration(m_elapsed.elapsed()));
        showOutcome(tr("Streaming…"), false);
    }
    QScrollBar *bar = m_answer->verticalScrollBar();
    const bool atEnd = bar->value() == bar->maximum();
    QTextCursor cursor = m_answer->textCursor();
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text);
    if (atEnd)
        bar->setValue(bar->maximum());
}

void TestPromptPage::onReasoning(const QString &text)
{
    m_reasoningTitle->show();
    m_reasoning->show();
    QTextCursor cursor = m_reasoning->textCursor();
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text);
}

void TestPromptPage::onFinished(const RequestRecord &record, const QString &errorMessage)
{
    m_ticker->stop();
    if (m_chat)
        m_chat->deleteLater();
    m_chat = nullptr;

    const bool served = record.status > 0 && record.status < 400;
    if (served || !record.provider.isEmpty()) {
        m_servedBy->setText(
            served ? DisplayFormat::entry(record.provider, record.model)
                   : tr("nobody (last tried: %1)").arg(DisplayFormat::entry(record.provider, record.model)));
    } else {
        m_servedBy->setText(tr("nobody"));
    }
    m_attemptCount->setText(
        record.attempts.size() > 1
            ? tr("%1 (waterfall: earlier entries were skipped)").arg(record.attempts.size())
            : QString::number(record.attempts.size()));
    m_attempts->setAttempts(record.attempts);
    if (record.firstTokenMs >= 0)
        m_firstToken->setText(DisplayFormat::duration(record.firstTokenMs));
    m_latency->setText(
        DisplayFormat::duration(record.latencyMs > 0 ? record.latencyMs : m_elapsed.elapsed()));
    m_tokens->setText(record.totalTokens > 0 || served
                          ? tokenText(record.promptTokens, record.completionTokens, record.totalTokens,
                                      record.tokensEstimated)
                          : DisplayFormat::placeholder());

    if (m_stopRequested)
        showOutcome(tr("Stopped. The upstream call was cancelled."), false);
    else if (!errorMessage.isEmpty())
        showOutcome(tr("Failed (%1): %2").arg(DisplayFormat::status(record.status), errorMessage), true);
    else if (!served)
        showOutcome(tr("Failed: %1").arg(DisplayFormat::status(record.status)), true);
    else
        showOutcome(tr("Done."), false);
    setBusy(false);
    emit chatFinished();
}

void TestPromptPage::testWholeChain()
{
    if (isBusy() || m_chain->count() == 0)
        return;
    const QString chain = m_chain->currentText();
    m_chainTestRunning = true;
    m_tabs->setCurrentIndex(1); // first: the results table takes the keyboard from the button
    setBusy(true);
    m_chainTable->setRowCount(0);
    m_chainSummary->setText(tr("Testing every entry of %1…").arg(chain));
    const QString prompt = m_prompt->toPlainText().trimmed();
    m_bridge->testChain(chain, prompt, this, [this, chain](const ServiceBridge::ChainTestResult &result) {
        onChainTested(chain, result);
    });
}

void TestPromptPage::onChainTested(const QString &chain, const ServiceBridge::ChainTestResult &result)
{
    m_chainTestRunning = false;
    setBusy(false);
    if (!result.ok) {
        m_chainSummary->setText(tr("Could not test %1: %2").arg(chain, result.error));
        m_chainSummary->setStyleSheet(
            QStringLiteral("color: %1").arg(DisplayFormat::statusColor(500).name()));
        emit chainTestFinished();
        return;
    }
    m_chainSummary->setStyleSheet(QString());
    int passed = 0;
    m_chainTable->setRowCount(int(result.results.size()));
    for (int row = 0; row < result.results.size(); ++row) {
        const ChainTester::Result &r = result.results.at(row);
        passed += r.ok ? 1 : 0;
        m_chainTable->setItem(row, NumberColumn, cell(QString::number(row + 1), true));
        m_chainTable->setItem(row, ProviderColumn, cell(r.provider));
        m_chainTable->setItem(row, ModelColumn, cell(r.model));
        auto *verdict = cell(r.ok ? tr("OK") : tr("Failed"));
        verdict->setForeground(DisplayFormat::statusColor(r.ok ? 200 : 500));
        m_chainTable->setItem(row, ResultColumn, verdict);
        m_chainTable->setItem(row, LatencyColumn, cell(DisplayFormat::duration(r.latencyMs), true));
        m_chainTable->setItem(
            row, TokensColumn,
            cell(r.ok ? DisplayFormat::integer(r.totalTokens) : DisplayFormat::placeholder(), true));
        m_chainTable->setItem(row, AnswerColumn, cell(r.ok ? r.response : r.error));
    }
    if (result.results.isEmpty())
        m_chainSummary->setText(tr("%1 has no entries to test.").arg(chain));
    else
        m_chainSummary->setText(
            tr("%1: %2 of %3 entries answered.").arg(chain).arg(passed).arg(result.results.size()));
    emit chainTestFinished();
}

void TestPromptPage::showOutcome(const QString &text, bool error)
{
    m_outcome->setText(text);
    m_outcome->setStyleSheet(error ? QStringLiteral("color: %1").arg(DisplayFormat::statusColor(500).name())
                                   : QString());
}

void TestPromptPage::tickLatency()
{
    m_latency->setText(DisplayFormat::duration(m_elapsed.elapsed()));
}
