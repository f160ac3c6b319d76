#pragma once

#include "config.h"

#include <QHash>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QStandardItemModel;
class ServiceBridge;

// Provider + model for a chain entry (Chains page: add an entry, new chain): the provider from the config,
// the model typed or picked from the provider's own list ("Fetch models", free ones and context length
// shown).
class EntryPicker : public QWidget
{
    Q_OBJECT

public:
    explicit EntryPicker(ServiceBridge *bridge, QWidget *parent = nullptr);

    // Fills the provider list from the config, keeping the current choice where it still exists.
    void setProviders(const QList<ProviderConfig> &providers);
    QString provider() const;
    QString model() const; // trimmed
    void setModel(const QString &model);
    void clearModel();

    QComboBox *providerCombo() const { return m_provider; }
    QComboBox *modelCombo() const { return m_model; }

private:
    void fetchModels();
    void showModels(const QString &provider);

    ServiceBridge *m_bridge;
    QComboBox *m_provider;
    QComboBox *m_model;
    QStandardItemModel *m_models;
    QPushButton *m_fetch;
    QLabel *m_note;
    QHash<QString, QList<QStringList>> m_fetched; // provider -> rows {id, price, context}
};
