#include "onboardingdialog.h"

#include "clientkey.h"
#include "configloader.h"
#include "configvalidator.h"
#include "configwriter.h"
#include "health.h"
#include "providerkind.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace {

QLineEdit *readOnlyField(const QString &text, const QString &name, QWidget *parent)
{
    auto *field = new QLineEdit(text, parent);
    field->setReadOnly(true);
    field->setAccessibleName(name);
    field->setMinimumWidth(field->fontMetrics().horizontalAdvance(text) + 24);
    return field;
}

QPushButton *copyButton(QLineEdit *field, const QString &accessibleName, QWidget *parent)
{
    auto *button = new QPushButton(OnboardingDialog::tr("Copy"), parent);
    button->setAccessibleName(accessibleName);
    button->setAutoDefault(false);
    QObject::connect(button, &QPushButton::clicked, field,
                     [field] { QApplication::clipboard()->setText(field->text()); });
    return button;
}

} // namespace

OnboardingDialog::OnboardingDialog(const QString &configPath, const QString &dataDir, const QString &baseUrl,
                                   QWidget *parent)
    : QDialog(parent), m_configPath(configPath), m_dataDir(dataDir)
{
    setWindowTitle(tr("Welcome to 429chain"));
    setWindowIcon(Health::appIcon());
    setObjectName(QStringLiteral("onboardingDialog"));
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(20, 20, 20, 16);
    m_stack = new QStackedWidget(this);
    outer->addWidget(m_stack);

    // Page 1: what this is, the key and URL a client needs, and the two ways to start.
    auto *welcome = new QWidget(m_stack);
    auto *layout = new QVBoxLayout(welcome);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);
    auto *title = new QLabel(tr("<h2>Welcome to 429chain</h2>"), welcome);
    auto *intro = new QLabel(tr("429chain is an OpenAI-compatible endpoint on this computer. It sends each "
                                "request to the first provider in a chain that still has free quota, so your "
                                "tools keep working when one free tier says 429."),
                             welcome);
    intro->setWordWrap(true);
    layout->addWidget(title);
    layout->addWidget(intro);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    m_key = readOnlyField(ClientKey::generate(), tr("API key"), welcome);
    m_key->setObjectName(QStringLiteral("apiKeyField"));
    auto *keyRow = new QHBoxLayout;
    keyRow->addWidget(m_key, 1);
    keyRow->addWidget(copyButton(m_key, tr("Copy API key"), welcome));
    form->addRow(tr("Your API key:"), keyRow);
    auto *url = readOnlyField(baseUrl, tr("Base URL"), welcome);
    url->setObjectName(QStringLiteral("baseUrlField"));
    auto *urlRow = new QHBoxLayout;
    urlRow->addWidget(url, 1);
    urlRow->addWidget(copyButton(url, tr("Copy base URL"), welcome));
    form->addRow(tr("Base URL:"), urlRow);
    layout->addLayout(form);
    auto *hint = new QLabel(tr("Point any OpenAI client at the base URL with this key, and use a chain name "
                               "(\"default\") as the model."),
                            welcome);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    layout->addStretch(1);

    auto *choices = new QHBoxLayout;
    auto *quit = new QPushButton(tr("Quit"), welcome);
    quit->setAutoDefault(false);
    connect(quit, &QPushButton::clicked, this, &QDialog::reject);
    auto *demo = new QPushButton(tr("Start with &demo providers"), welcome);
    demo->setObjectName(QStringLiteral("demoButton"));
    demo->setToolTip(tr("Simulated providers on this computer: watch the waterfall without an account. "
                        "Nothing is saved; you will be asked again next time."));
    demo->setAutoDefault(false);
    connect(demo, &QPushButton::clicked, this, [this] {
        m_choice = Choice::Demo;
        accept();
    });
    auto *provider = new QPushButton(tr("&Add a first provider…"), welcome);
    provider->setObjectName(QStringLiteral("providerButton"));
    provider->setDefault(true);
    connect(provider, &QPushButton::clicked, this, &OnboardingDialog::showProviderForm);
    choices->addWidget(quit);
    choices->addStretch(1);
    choices->addWidget(demo);
    choices->addWidget(provider);
    layout->addLayout(choices);
    m_stack->addWidget(welcome);

    // Page 2: one provider and model; the config gets a chain "default" with it.
    auto *providerPage = new QWidget(m_stack);
    auto *pLayout = new QVBoxLayout(providerPage);
    pLayout->setContentsMargins(0, 0, 0, 0);
    pLayout->setSpacing(12);
    pLayout->addWidget(new QLabel(tr("<h2>Your first provider</h2>"), providerPage));
    auto *pIntro = new QLabel(tr("Sign up for a free tier (Groq, OpenRouter, Cerebras, Google AI Studio, "
                                 "Mistral, …), create a key there and enter it here. You can add more "
                                 "providers and chains afterwards."),
                              providerPage);
    pIntro->setWordWrap(true);
    pLayout->addWidget(pIntro);
    auto *pForm = new QFormLayout;
    pForm->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    m_type = new QComboBox(providerPage);
    m_type->setObjectName(QStringLiteral("typeCombo"));
    m_type->setAccessibleName(tr("Provider type"));
    m_type->addItems(ProviderKind::knownTypes());
    pForm->addRow(tr("&Type:"), m_type);
    m_providerUrl = new QLineEdit(providerPage);
    m_providerUrl->setObjectName(QStringLiteral("providerUrlField"));
    m_providerUrl->setAccessibleName(tr("Provider base URL"));
    pForm->addRow(tr("Base &URL:"), m_providerUrl);
    m_providerKey = new QLineEdit(providerPage);
    m_providerKey->setObjectName(QStringLiteral("providerKeyField"));
    m_providerKey->setAccessibleName(tr("Provider API key"));
    m_providerKey->setEchoMode(QLineEdit::Password);
    auto *reveal = new QCheckBox(tr("&Show"), providerPage);
    reveal->setAccessibleName(tr("Show the provider key"));
    connect(reveal, &QCheckBox::toggled, m_providerKey,
            [this](bool on) { m_providerKey->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password); });
    auto *keyLine = new QHBoxLayout;
    keyLine->addWidget(m_providerKey, 1);
    keyLine->addWidget(reveal);
    auto *keyLabel = new QLabel(tr("API &key:"), providerPage);
    keyLabel->setBuddy(m_providerKey); // a row of a layout gets no buddy by itself: Alt+K needs one
    pForm->addRow(keyLabel, keyLine);
    m_model = new QLineEdit(providerPage);
    m_model->setObjectName(QStringLiteral("modelField"));
    m_model->setAccessibleName(tr("Model"));
    m_model->setPlaceholderText(tr("e.g. llama-3.1-8b-instant"));
    pForm->addRow(tr("&Model:"), m_model);
    pLayout->addLayout(pForm);
    m_error = new QLabel(providerPage);
    m_error->setObjectName(QStringLiteral("errorLabel"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral(
        "QLabel { color: white; background-color: #b91c1c; border-radius: 4px; padding: 6px 8px; }"));
    m_error->hide();
    pLayout->addWidget(m_error);
    pLayout->addStretch(1);
    auto *buttons = new QDialogButtonBox(providerPage);
    auto *back = buttons->addButton(tr("&Back"), QDialogButtonBox::ResetRole);
    auto *save = buttons->addButton(tr("&Save and start"), QDialogButtonBox::AcceptRole);
    save->setObjectName(QStringLiteral("saveButton"));
    connect(back, &QPushButton::clicked, this, [this] { m_stack->setCurrentIndex(0); });
    connect(save, &QPushButton::clicked, this, &OnboardingDialog::saveProvider);
    pLayout->addWidget(buttons);
    m_stack->addWidget(providerPage);

    connect(m_type, &QComboBox::currentTextChanged, this, &OnboardingDialog::typeChanged);
    typeChanged();
    resize(qMax(560, sizeHint().width()), sizeHint().height());
}

QString OnboardingDialog::apiKey() const
{
    return m_key->text();
}

void OnboardingDialog::showProviderForm()
{
    m_stack->setCurrentIndex(1);
    m_providerKey->setFocus();
}

void OnboardingDialog::typeChanged()
{
    const QString url = ProviderKind::defaultBaseUrl(m_type->currentText());
    m_providerUrl->setText(url);
    m_providerUrl->setPlaceholderText(
        url.isEmpty() ? tr("required for this type, e.g. http://localhost:8080/v1") : QString());
}

void OnboardingDialog::showError(const QString &message)
{
    m_error->setText(message);
    m_error->show();
}

void OnboardingDialog::saveProvider()
{
    const QString type = m_type->currentText();
    ProviderConfig provider;
    provider.id = type;
    provider.name = type;
    provider.type = type;
    provider.apiKey = m_providerKey->text().trimmed();
    const QString url = m_providerUrl->text().trimmed();
    provider.baseUrl = url == ProviderKind::defaultBaseUrl(type) ? QString() : url;
    if (provider.apiKey.isEmpty()) {
        showError(tr("Enter the key you created at the provider."));
        m_providerKey->setFocus();
        return;
    }
    if (m_model->text().trimmed().isEmpty()) {
        showError(tr("Enter a model of this provider (you can fetch its list later on the Providers page)."));
        m_model->setFocus();
        return;
    }
    Config config;
    config.settings.apiKeys = {apiKey()};
    config.settings.defaultChain = QStringLiteral("default");
    config.settings.dbPath = QDir(m_dataDir).filePath(QStringLiteral("observability.db"));
    config.providers = {provider};
    ChainConfig chain;
    chain.name = QStringLiteral("default");
    chain.entries.append({provider.id, m_model->text().trimmed(), 0, std::nullopt});
    config.chains = {chain};
    // The core's rules decide; the dialog only shows what they say.
    const QList<ConfigIssue> issues = ConfigValidator::check(config);
    if (!issues.isEmpty()) {
        QStringList lines;
        for (const auto &issue : issues)
            lines << issue.format(QString());
        showError(lines.join(QLatin1Char('\n')));
        return;
    }
    QDir().mkpath(QFileInfo(m_configPath).absolutePath());
    QString error;
    if (!ConfigWriter::write(config, m_configPath, &error)) {
        showError(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(m_configPath), error));
        return;
    }
    m_choice = Choice::Provider;
    accept();
}
