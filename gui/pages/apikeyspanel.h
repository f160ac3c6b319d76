#pragma once

#include <QGroupBox>

class QFrame;
class QLineEdit;
class QListWidget;
class QPushButton;
class ServiceBridge;
class StatusBanner;

// The API keys part of the Settings page: the proxy's keys listed masked; Generate makes a random key (shown
// once, with Copy), Copy and Revoke (after asking) act on the selected one; admin keys are listed when the
// config has them. Each change saves the file's settings with only the keys changed
// (ServiceBridge::updateSettings), so edits waiting in the settings form stay unapplied. Outcomes go to the
// page's banner.
class ApiKeysPanel : public QGroupBox
{
    Q_OBJECT

public:
    ApiKeysPanel(ServiceBridge *bridge, StatusBanner *banner, QWidget *parent = nullptr);

    // Lists the keys of the current fileConfig().
    void refresh();

    // "sk-429ch…wxyz" (or dots only for a short key): how a stored key is listed.
    static QString maskKey(const QString &key);

private:
    void updateButtons();
    void saveKeys(const QStringList &keys, const QString &what, const QString &newKey);
    void generate();
    void copySelectedKey();
    void revokeSelectedKey();

    ServiceBridge *m_bridge;
    StatusBanner *m_banner;
    QListWidget *m_keys;
    QPushButton *m_generate;
    QPushButton *m_copyKey;
    QPushButton *m_revoke;
    QFrame *m_newKeyBox;
    QLineEdit *m_newKey;
    QGroupBox *m_adminBox;
    QListWidget *m_adminKeys;
};
