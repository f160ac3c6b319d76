#pragma once

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QStackedWidget;

// First run (no config file yet): shows a freshly generated API key and the base URL to copy, then either
// asks for a first provider (type, key, model) and writes a config with it, or starts the demo providers.
class OnboardingDialog : public QDialog
{
    Q_OBJECT

public:
    enum class Choice { None, Provider, Demo };

    // `configPath`: where the config is written; `dataDir`: where its request log will live.
    OnboardingDialog(const QString &configPath, const QString &dataDir, const QString &baseUrl,
                     QWidget *parent = nullptr);

    Choice choice() const { return m_choice; }
    QString apiKey() const;

private:
    void showProviderForm();
    void typeChanged();
    void saveProvider();
    void showError(const QString &message);

    QString m_configPath;
    QString m_dataDir;
    Choice m_choice = Choice::None;
    QStackedWidget *m_stack = nullptr;
    QLineEdit *m_key = nullptr;
    QComboBox *m_type = nullptr;
    QLineEdit *m_providerUrl = nullptr;
    QLineEdit *m_providerKey = nullptr;
    QLineEdit *m_model = nullptr;
    QLabel *m_error = nullptr;
};
