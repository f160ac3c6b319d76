// TestPromptPage against a running proxy (GuiHarness): Send streams the answer into the pane and shows who
// served it, the attempts with their reasons, first token, latency and tokens; Stop cancels a slow stream;
// "Test whole chain" shows a row per entry; mistakes are explained in the page.

#include "guiharness.h"
#include "servicebridge.h"
#include "simulatedprovider.h"
#include "testpromptpage.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

namespace {

QString valueOf(TestPromptPage &page, const char *name)
{
    auto *label = page.findChild<QLabel *>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<missing %1>").arg(QLatin1String(name));
}

QString answerOf(TestPromptPage &page)
{
    return page.findChild<QPlainTextEdit *>(QStringLiteral("answerView"))->toPlainText();
}

} // namespace

class TestTestPromptPage : public QObject
{
    Q_OBJECT

private slots:
    void streamsTheAnswerWithServedBy();
    void waterfallShowsAttemptsWithReasons();
    void stopCancelsASlowStream();
    void keyboardGoesFromSendToStopAndBack();
    void wholeChainShowsARowPerEntry();
    void mistakesAreExplained();
    void withoutChains();
};

void TestTestPromptPage::streamsTheAnswerWithServedBy()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    harness.runOnEngine([&] {
        SimulatedProvider *alpha = harness.provider(QStringLiteral("alpha"));
        alpha->setReply(QStringLiteral("One two three four five six"));
        alpha->setChunkDelayMs(60);
    });
    TestPromptPage page(harness.bridge());
    auto *combo = page.findChild<QComboBox *>(QStringLiteral("chainCombo"));
    QCOMPARE(combo->count(), 2);
    QCOMPARE(combo->currentText(), QStringLiteral("default")); // the default chain first
    auto *send = page.findChild<QPushButton *>(QStringLiteral("sendButton"));
    auto *stop = page.findChild<QPushButton *>(QStringLiteral("stopButton"));
    QVERIFY(send->isEnabled());
    QVERIFY(!stop->isEnabled());

    QSignalSpy finished(&page, &TestPromptPage::chatFinished);
    // Part of the answer is in the pane while the stream still runs (checked as each piece lands, so a slow
    // machine cannot make it look whole).
    const QString whole = QStringLiteral("One two three four five six");
    bool partialWhileBusy = false;
    bool firstTokenShown = false;
    connect(page.findChild<QPlainTextEdit *>(QStringLiteral("answerView")), &QPlainTextEdit::textChanged,
            &page, [&] {
                const QString now = answerOf(page);
                if (!now.isEmpty() && now.size() < whole.size() && page.isBusy()) {
                    partialWhileBusy = true;
                    firstTokenShown = valueOf(page, "firstTokenValue") != QStringLiteral("–");
                }
            });
    page.findChild<QPlainTextEdit *>(QStringLiteral("systemPrompt"))
        ->setPlainText(QStringLiteral("Be brief."));
    send->click();
    QVERIFY(page.isBusy());
    QVERIFY(!send->isEnabled());
    QVERIFY(stop->isEnabled());
    QVERIFY(finished.wait(15000));
    QVERIFY(partialWhileBusy);
    QVERIFY(firstTokenShown);
    QCOMPARE(answerOf(page), QStringLiteral("One two three four five six"));
    QCOMPARE(valueOf(page, "servedByValue"), QStringLiteral("alpha / alpha-model"));
    QCOMPARE(valueOf(page, "attemptsValue"), QStringLiteral("1"));
    QVERIFY(valueOf(page, "latencyValue") != QStringLiteral("–"));
    QVERIFY2(valueOf(page, "tokensValue").contains(QStringLiteral("prompt")),
             qPrintable(valueOf(page, "tokensValue")));
    QCOMPARE(valueOf(page, "outcomeLabel"), QStringLiteral("Done."));
    QVERIFY(send->isEnabled());
    QVERIFY(!stop->isEnabled());

    // The system prompt went upstream.
    QJsonObject body;
    harness.runOnEngine([&] { body = harness.provider(QStringLiteral("alpha"))->lastRequest().body; });
    const QJsonArray messages = body.value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("Be brief."));
}

void TestTestPromptPage::waterfallShowsAttemptsWithReasons()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    harness.runOnEngine([&] {
        harness.provider(QStringLiteral("alpha"))->enqueue(SimulatedProvider::Step::rateLimited(30));
    });
    TestPromptPage page(harness.bridge());
    QSignalSpy finished(&page, &TestPromptPage::chatFinished);
    page.send();
    QVERIFY(finished.wait(15000));
    QCOMPARE(answerOf(page), QStringLiteral("Hello from beta"));
    QCOMPARE(valueOf(page, "servedByValue"), QStringLiteral("beta / beta-model"));
    QVERIFY(valueOf(page, "attemptsValue").startsWith(QStringLiteral("2")));
    auto *attempts = page.findChild<QTableWidget *>(QStringLiteral("attemptTable"));
    QCOMPARE(attempts->rowCount(), 2);
    QCOMPARE(attempts->item(0, 1)->text(), QStringLiteral("alpha / alpha-model"));
    QCOMPARE(attempts->item(0, 2)->text(), QStringLiteral("rate limited"));
    QVERIFY(attempts->item(0, 5)->text().contains(QStringLiteral("429")));
    QCOMPARE(attempts->item(1, 2)->text(), QStringLiteral("served"));
}

void TestTestPromptPage::stopCancelsASlowStream()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    const QString longReply = QStringLiteral("word ").repeated(200).trimmed();
    harness.runOnEngine([&] {
        SimulatedProvider *alpha = harness.provider(QStringLiteral("alpha"));
        alpha->setReply(longReply);
        alpha->setChunkDelayMs(200);
    });
    TestPromptPage page(harness.bridge());
    QSignalSpy finished(&page, &TestPromptPage::chatFinished);
    page.send();
    QVERIFY(GuiHarness::waitFor([&] { return !answerOf(page).isEmpty(); }));
    page.findChild<QPushButton *>(QStringLiteral("stopButton"))->click();
    QVERIFY(finished.wait(15000));
    QVERIFY(valueOf(page, "outcomeLabel").startsWith(QStringLiteral("Stopped")));
    QVERIFY(answerOf(page).size() < longReply.size());
    QVERIFY(!page.isBusy());
    QVERIFY(page.findChild<QPushButton *>(QStringLiteral("sendButton"))->isEnabled());
    // The upstream call was dropped, not left running.
    QVERIFY(GuiHarness::waitFor([&] {
        int aborts = 0;
        harness.runOnEngine([&] { aborts = harness.provider(QStringLiteral("alpha"))->clientAborts(); });
        return aborts > 0;
    }));
}

// Send pressed with the keyboard puts the focus on Stop (not on whatever follows the disabled buttons), and
// when the answer is over it goes back to Send.
void TestTestPromptPage::keyboardGoesFromSendToStopAndBack()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    harness.runOnEngine([&] {
        SimulatedProvider *alpha = harness.provider(QStringLiteral("alpha"));
        alpha->setReply(QStringLiteral("word ").repeated(200).trimmed());
        alpha->setChunkDelayMs(200);
    });
    TestPromptPage page(harness.bridge());
    page.show();
    page.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    auto *send = page.findChild<QPushButton *>(QStringLiteral("sendButton"));
    auto *stop = page.findChild<QPushButton *>(QStringLiteral("stopButton"));
    QSignalSpy finished(&page, &TestPromptPage::chatFinished);
    send->setFocus();
    QTest::keyClick(send, Qt::Key_Space);
    QVERIFY(page.isBusy());
    QCOMPARE(QApplication::focusWidget(), stop);
    QTest::keyClick(stop, Qt::Key_Space);
    QVERIFY(finished.wait(15000));
    QVERIFY(valueOf(page, "outcomeLabel").startsWith(QStringLiteral("Stopped")));
    QCOMPARE(QApplication::focusWidget(), send);

    // Test whole chain pressed with the keyboard hands it to its results table.
    harness.runOnEngine([&] { harness.provider(QStringLiteral("alpha"))->setChunkDelayMs(0); });
    QSignalSpy tested(&page, &TestPromptPage::chainTestFinished);
    auto *testChain = page.findChild<QPushButton *>(QStringLiteral("testChainButton"));
    testChain->setFocus();
    QTest::keyClick(testChain, Qt::Key_Space);
    QCOMPARE(QApplication::focusWidget(), page.findChild<QTableWidget *>(QStringLiteral("chainTestTable")));
    QVERIFY(tested.wait(30000));
    QCOMPARE(QApplication::focusWidget(), page.findChild<QTableWidget *>(QStringLiteral("chainTestTable")));
}

void TestTestPromptPage::wholeChainShowsARowPerEntry()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    harness.runOnEngine([&] {
        harness.provider(QStringLiteral("beta"))
            ->enqueue(SimulatedProvider::Step::status(
                500, QByteArrayLiteral("{\"error\":{\"message\":\"boom\"}}")));
    });
    TestPromptPage page(harness.bridge());
    QSignalSpy done(&page, &TestPromptPage::chainTestFinished);
    page.findChild<QPushButton *>(QStringLiteral("testChainButton"))->click();
    QVERIFY(page.isBusy());
    QVERIFY(done.wait(30000));
    auto *table = page.findChild<QTableWidget *>(QStringLiteral("chainTestTable"));
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("alpha"));
    QCOMPARE(table->item(0, 2)->text(), QStringLiteral("alpha-model"));
    QCOMPARE(table->item(0, 3)->text(), QStringLiteral("OK"));
    QVERIFY(table->item(0, 6)->text().contains(QStringLiteral("Hello from alpha")));
    QCOMPARE(table->item(1, 1)->text(), QStringLiteral("beta"));
    QCOMPARE(table->item(1, 3)->text(), QStringLiteral("Failed"));
    QVERIFY2(table->item(1, 6)->text().contains(QStringLiteral("boom")),
             qPrintable(table->item(1, 6)->text()));
    QVERIFY(valueOf(page, "chainTestSummary").contains(QStringLiteral("1 of 2")));
    QVERIFY(!page.isBusy());
}

void TestTestPromptPage::mistakesAreExplained()
{
    GuiHarness harness;
    QVERIFY(harness.start());
    TestPromptPage page(harness.bridge());
    page.findChild<QPlainTextEdit *>(QStringLiteral("promptEdit"))->clear();
    page.send();
    QVERIFY(!page.isBusy());
    QCOMPARE(valueOf(page, "outcomeLabel"), QStringLiteral("Type a prompt first."));

    // Every entry of the chain refuses: the error is shown in the page, not lost.
    harness.runOnEngine(
        [&] { harness.provider(QStringLiteral("beta"))->enqueue(SimulatedProvider::Step::status(400)); });
    page.findChild<QPlainTextEdit *>(QStringLiteral("promptEdit"))->setPlainText(QStringLiteral("Hi"));
    auto *combo = page.findChild<QComboBox *>(QStringLiteral("chainCombo"));
    combo->setCurrentIndex(combo->findText(QStringLiteral("backup")));
    QSignalSpy finished(&page, &TestPromptPage::chatFinished);
    page.send();
    QVERIFY(finished.wait(15000));
    QVERIFY2(valueOf(page, "outcomeLabel").startsWith(QStringLiteral("Failed")),
             qPrintable(valueOf(page, "outcomeLabel")));
    QVERIFY(valueOf(page, "servedByValue").startsWith(QStringLiteral("nobody")));
}

void TestTestPromptPage::withoutChains()
{
    GuiHarness::Options options;
    options.editConfig = [](Config &config) {
        config.chains.clear();
        config.settings.defaultChain.clear();
    };
    GuiHarness harness(options);
    QVERIFY(harness.start());
    TestPromptPage page(harness.bridge());
    page.show();
    QVERIFY(page.findChild<QLabel *>(QStringLiteral("noChains"))->isVisible());
    QVERIFY(!page.findChild<QPushButton *>(QStringLiteral("sendButton"))->isEnabled());
    QVERIFY(!page.findChild<QPushButton *>(QStringLiteral("testChainButton"))->isEnabled());
    page.send(); // nothing happens, nothing crashes
    QVERIFY(!page.isBusy());
}

QTEST_MAIN(TestTestPromptPage)
#include "tst_testpromptpage.moc"
