#pragma once

#include <QObject>
#include <QString>

class QLocalServer;

// One desktop instance per user: the first one listens on a local socket named after the user; a second
// launch finds it, asks it to show its window, and exits instead of failing on the port.
class SingleInstance : public QObject
{
    Q_OBJECT

public:
    // The socket name for this user (and for $CHAIN_INSTANCE_NAME, which tests use to stay apart).
    static QString defaultName();

    explicit SingleInstance(const QString &name = defaultName(), QObject *parent = nullptr);
    ~SingleInstance() override;

    // True when another instance answered and was asked to show itself: this one should exit.
    bool activateRunning(int timeoutMs = 2000);
    // Becomes the instance others find (a stale socket of a crashed instance is removed first).
    bool listen(QString *error);
    QString name() const { return m_name; }

signals:
    void activationRequested();

private:
    QString m_name;
    QLocalServer *m_server = nullptr;
};
