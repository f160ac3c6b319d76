#pragma once

#include "config.h"

#include <QWidget>

class ApiKeysPanel;
class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class ServiceBridge;
class StatusBanner;

// The Settings page: the proxy's API keys (ApiKeysPanel) and the settings form (server, routing, mid-stream
// failures, queue mode, request log). The form edits the file's settings (fileConfig()) and Apply sends them
// whole through ServiceBridge::updateSettings: the core validates them (its message is shown when it refuses,
// and nothing changes) and says which ones only take effect after a restart. Revert goes back to the file.
class SettingsPage : public QWidget
{
    Q_OBJECT

public:
    explicit SettingsPage(ServiceBridge *bridge, QWidget *parent = nullptr);

    bool hasUnappliedChanges() const;

public slots:
    void apply();
    void revert();

private:
    QWidget *buildServer();
    QWidget *buildRouting();
    QWidget *buildQueue();
    void loadForm();
    void refreshRunning();
    void refreshChains();
    void updateState();
    Settings formSettings() const;
    // A spin box for the integer setting `key` (its object name), with the key table's range and description.
    QSpinBox *spin(const char *key, const QString &accessibleName, const QString &suffix);

    ServiceBridge *m_bridge;
    StatusBanner *m_banner;
    bool m_loading = false;

    ApiKeysPanel *m_keysPanel;

    QLineEdit *m_host;
    QSpinBox *m_port;
    QLabel *m_running;
    QComboBox *m_logLevel;
    QLineEdit *m_dbPath;
    QSpinBox *m_maxRequestBytes;
    QSpinBox *m_logRetentionDays;
    QPlainTextEdit *m_corsOrigins;
    QPlainTextEdit *m_allowedHosts;

    QComboBox *m_defaultChain;
    QSpinBox *m_cooldownDefault;
    QSpinBox *m_requestTimeout;
    QSpinBox *m_streamIdleTimeout;
    QCheckBox *m_normalize;
    QSpinBox *m_midStreamThreshold;
    QSpinBox *m_midStreamCooldown;
    QSpinBox *m_midStreamCooldownMax;

    QCheckBox *m_queueMode;
    QSpinBox *m_queueMaxWait;
    QSpinBox *m_queueMaxSize;

    QPushButton *m_apply;
    QPushButton *m_revert;
};
