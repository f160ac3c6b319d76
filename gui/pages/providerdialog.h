#pragma once

#include "config.h"

#include <QDialog>
#include <QList>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QToolButton;
class QTreeWidget;
class ServiceBridge;
class StatusBanner;

// Add or edit one provider (Providers page): id and name, type (which fills in the type's default base URL),
// the API key (masked, shown on demand; left empty on edit it keeps the stored key), timeout, the manual rate
// limits, and the provider's own model list ("Fetch models") with "Add to chain…". Saving goes through
// ServiceBridge::upsertProvider; an error from the core is shown here and the dialog stays open.
class ProviderDialog : public QDialog
{
    Q_OBJECT

public:
    // `existing` null: a new provider.
    ProviderDialog(ServiceBridge *bridge, const ProviderConfig *existing, QWidget *parent = nullptr);

    // What the user asked to save (valid once accepted).
    QString providerId() const { return m_savedId; }
    QString resultMessage() const { return m_savedMessage; } // the core's "Provider … added"

private:
    QWidget *buildConnectionTab();
    QWidget *buildLimitsTab();
    QWidget *buildModelsTab();
    void loadFrom(const ProviderConfig &provider);
    void onTypeChanged();
    void setKeyRevealed(bool revealed);
    ProviderConfig collect() const;
    void save();
    void fetchModels();
    void addToChain();

    ServiceBridge *m_bridge;
    bool m_editing;
    ProviderConfig m_original;
    QString m_savedId;
    QString m_savedMessage;
    QString m_lastDefaultUrl; // the default the URL field was filled with, to follow type changes

    StatusBanner *m_banner;
    QTabWidget *m_tabs;
    QLineEdit *m_id;
    QLineEdit *m_name;
    QComboBox *m_type;
    QLineEdit *m_baseUrl;
    QLabel *m_urlHint;
    QLineEdit *m_apiKey;
    QToolButton *m_reveal;
    QSpinBox *m_timeout;
    QCheckBox *m_enabled;
    QList<QSpinBox *> m_limits; // in the order of ManualRateLimits' fields
    QComboBox *m_scope;
    QPushButton *m_fetch;
    QLabel *m_modelsNote;
    QTreeWidget *m_models;
    QPushButton *m_addToChain;
    QPushButton *m_save;
};
