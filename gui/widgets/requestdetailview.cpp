#include "requestdetailview.h"
#include "attempttable.h"
#include "displayformat.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

RequestDetailView::RequestDetailView(QWidget *parent) : QWidget(parent)
{
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("detailMessage"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setForegroundRole(QPalette::PlaceholderText);

    auto *details = new QWidget(this);
    auto *layout = new QVBoxLayout(details);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(8);
    m_title = new QLabel(details);
    m_title->setObjectName(QStringLiteral("detailTitle"));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    layout->addWidget(m_title);

    auto *columns = new QHBoxLayout;
    columns->setSpacing(24);
    auto *left = new QFormLayout;
    auto *right = new QFormLayout;
    for (QFormLayout *form : {left, right}) {
        form->setLabelAlignment(Qt::AlignLeft);
        form->setHorizontalSpacing(12);
        form->setVerticalSpacing(4);
        form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    }
    m_time = fact(left, tr("Time"));
    m_chain = fact(left, tr("Chain"));
    m_servedBy = fact(left, tr("Served by"));
    m_status = fact(left, tr("Status"));
    m_latency = fact(right, tr("Latency"));
    m_firstToken = fact(right, tr("First token"));
    m_tokens = fact(right, tr("Tokens"));
    m_client = fact(right, tr("Client key"));
    columns->addLayout(left, 1);
    columns->addLayout(right, 1);
    layout->addLayout(columns);
    m_error = new QLabel(details);
    m_error->setObjectName(QStringLiteral("detailError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_error);
    m_attemptsTitle = new QLabel(details);
    m_attemptsTitle->setFont(bold);
    layout->addWidget(m_attemptsTitle);
    m_attempts = new AttemptTable(details);
    m_attempts->setObjectName(QStringLiteral("detailAttempts"));
    layout->addWidget(m_attempts, 1);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_message);
    m_stack->addWidget(details);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);
    showMessage(tr("Select a request to see its attempts."));
}

QLabel *RequestDetailView::fact(QFormLayout *form, const QString &label)
{
    auto *value = new QLabel(this);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *name = new QLabel(label, this);
    name->setForegroundRole(QPalette::PlaceholderText);
    name->setBuddy(value);
    form->addRow(name, value);
    value->setAccessibleName(label);
    return value;
}

void RequestDetailView::showRequest(qint64 id, const RequestRecord &r)
{
    m_title->setText(id > 0 ? tr("Request #%1").arg(id) : tr("Request (being written to the log)"));
    m_time->setText(DisplayFormat::dateTime(r.startedAtMs));
    m_chain->setText(r.chain);
    m_servedBy->setText(DisplayFormat::entry(r.provider, r.model));
    m_status->setText(DisplayFormat::status(r.status));
    m_latency->setText(DisplayFormat::duration(r.latencyMs));
    m_firstToken->setText(r.stream ? DisplayFormat::duration(r.firstTokenMs)
                                   : tr("whole answer, not streamed"));
    m_tokens->setText(
        tr("%1 prompt + %2 completion = %3%4")
            .arg(DisplayFormat::integer(r.promptTokens), DisplayFormat::integer(r.completionTokens),
                 DisplayFormat::integer(r.totalTokens), r.tokensEstimated ? tr(" (estimated)") : QString()));
    m_client->setText(r.clientKeyLabel.isEmpty() ? DisplayFormat::placeholder() : r.clientKeyLabel);
    m_error->setText(r.error.isEmpty() ? QString() : tr("Error: %1").arg(r.error));
    m_error->setVisible(!r.error.isEmpty());
    m_attemptsTitle->setText(tr("Attempts (%1)").arg(r.attempts.size()));
    m_attempts->setAttempts(r.attempts);
    m_stack->setCurrentIndex(1);
}

void RequestDetailView::showMessage(const QString &text)
{
    m_message->setText(text);
    m_stack->setCurrentIndex(0);
}

QString RequestDetailView::heading() const
{
    return m_stack->currentIndex() == 0 ? m_message->text() : m_title->text();
}
