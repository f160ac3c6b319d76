#pragma once

#include <QFrame>

class QLabel;
class QToolButton;

// The message strip at the top of a config page (providers, chains, settings): the outcome of the last
// operation, an error from the core (AdminResult::error) or a note. The kind is said in words ("Error:",
// "Done:"), the colour only adds to it. Hidden until there is something to say.
class StatusBanner : public QFrame
{
    Q_OBJECT

public:
    enum class Kind { Info, Success, Error };

    explicit StatusBanner(QWidget *parent = nullptr);

    void showMessage(Kind kind, const QString &text);
    void clearMessage();
    QString text() const;
    Kind kind() const { return m_kind; }

private:
    QLabel *m_label;
    QToolButton *m_close;
    Kind m_kind = Kind::Info;
};
