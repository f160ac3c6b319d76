#include "statcard.h"

#include <QLabel>
#include <QVBoxLayout>

StatCard::StatCard(const QString &caption, QWidget *parent) : QFrame(parent), m_caption(caption)
{
    setFrameShape(QFrame::StyledPanel);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred); // a row of cards shares one height

    auto *title = new QLabel(caption, this);
    title->setForegroundRole(QPalette::PlaceholderText);
    m_value = new QLabel(QStringLiteral("–"), this);
    m_value->setObjectName(QStringLiteral("value"));
    QFont big = m_value->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    m_value->setFont(big);
    m_value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_detail = new QLabel(QStringLiteral(" "), this);
    m_detail->setObjectName(QStringLiteral("detail"));
    m_detail->setForegroundRole(QPalette::PlaceholderText);
    m_detail->setWordWrap(true);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(14, 10, 14, 12);
    layout->setSpacing(2);
    layout->addWidget(title);
    layout->addWidget(m_value);
    layout->addWidget(m_detail);
    layout->addStretch(1); // cards of one row share a height: their text stays at the top
    setAccessibleName(caption);
}

void StatCard::setValue(const QString &value, const QString &detail)
{
    m_value->setText(value);
    m_detail->setText(detail.isEmpty() ? QStringLiteral(" ") : detail);
    setAccessibleDescription(tr("%1: %2. %3").arg(m_caption, value, detail));
}

QString StatCard::value() const
{
    return m_value->text();
}

QString StatCard::detail() const
{
    return m_detail->text();
}
