#include "statusbanner.h"

#include <QAccessible>
#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

StatusBanner::StatusBanner(QWidget *parent)
    : QFrame(parent), m_label(new QLabel(this)), m_close(new QToolButton(this))
{
    setObjectName(QStringLiteral("statusBanner"));
    setFrameShape(QFrame::StyledPanel);
    m_label->setObjectName(QStringLiteral("statusBannerText"));
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_label->setTextFormat(Qt::PlainText);
    m_close->setObjectName(QStringLiteral("statusBannerClose"));
    m_close->setText(tr("Dismiss"));
    m_close->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_close->setAutoRaise(true);
    m_close->setAccessibleName(tr("Dismiss the message"));
    connect(m_close, &QToolButton::clicked, this, &StatusBanner::clearMessage);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->setSpacing(8);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    hide();
}

void StatusBanner::showMessage(Kind kind, const QString &text)
{
    m_kind = kind;
    QString prefix;
    QString colours;
    switch (kind) {
    case Kind::Error:
        prefix = tr("Error: ");
        colours = QStringLiteral("background:#fdecea; border:1px solid #e0a39c; color:#5f1a12;");
        break;
    case Kind::Success:
        prefix = tr("Done: ");
        colours = QStringLiteral("background:#e8f5e9; border:1px solid #9fcfa4; color:#1b4d20;");
        break;
    case Kind::Info:
        colours = QStringLiteral("background:#e8f0fb; border:1px solid #a9c1e6; color:#17325c;");
        break;
    }
    // By class, not object name: pages give their banner a name of its own.
    setStyleSheet(
        QStringLiteral("StatusBanner { border-radius:4px; ") + colours +
        QStringLiteral(
            " } StatusBanner QLabel, StatusBanner QToolButton { border:none; background:transparent; }"));
    m_label->setText(prefix + text);
    setAccessibleName(m_label->text());
    show();
    QAccessibleEvent event(m_label, QAccessible::NameChanged);
    QAccessible::updateAccessibility(&event);
}

void StatusBanner::clearMessage()
{
    m_label->clear();
    hide();
}

QString StatusBanner::text() const
{
    return isHidden() ? QString() : m_label->text();
}
