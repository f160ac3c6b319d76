#pragma once

#include <QFrame>

class QLabel;

// One figure on the dashboard: a caption, the value in large type and a line of detail under it.
class StatCard : public QFrame
{
    Q_OBJECT

public:
    explicit StatCard(const QString &caption, QWidget *parent = nullptr);

    void setValue(const QString &value, const QString &detail);
    QString value() const;
    QString detail() const;

private:
    QString m_caption;
    QLabel *m_value = nullptr;
    QLabel *m_detail = nullptr;
};
