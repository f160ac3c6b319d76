#include "providerdialog.h"

#include "providerkind.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <limits>

namespace {

struct LimitField
{
    std::optional<int> ManualRateLimits::*member;
    const char *objectName;
    const char *label;
};

const LimitField kLimitFields[] = {
    {&ManualRateLimits::requestsPerMinute, "limitRequestsPerMinute",
     QT_TRANSLATE_NOOP("ProviderDialog", "Requests per minute:")},
    {&ManualRateLimits::requestsPerHour, "limitRequestsPerHour",
     QT_TRANSLATE_NOOP("ProviderDialog", "Requests per hour:")},
    {&ManualRateLimits::requestsPerDay, "limitRequestsPerDay",
     QT_TRANSLATE_NOOP("ProviderDialog", "Requests per day:")},
    {&ManualRateLimits::tokensPerMinute, "limitTokensPerMinute",
     QT_TRANSLATE_NOOP("ProviderDialog", "Tokens per minute:")},
    {&ManualRateLimits::tokensPerDay, "limitTokensPerDay",
     QT_TRANSLATE_NOOP("ProviderDialog", "Tokens per day:")},
    {&ManualRateLimits::concurrentRequests, "limitConcurrentRequests",
     QT_TRANSLATE_NOOP("ProviderDialog", "Concurrent requests:")},
};

enum ModelColumn { ModelIdColumn, ModelContextColumn, ModelPriceColumn };

} // namespace

ProviderDialog::ProviderDialog(ServiceBridge *bridge, const ProviderConfig *existing, QWidget *parent)
    : QDialog(parent)
    , m_bridge(bridge)
    , m_editing(existing != nullptr)
    , m_banner(new StatusBanner(this))
    , m_tabs(new QTabWidget(this))
{
    setObjectName(QStringLiteral("providerDialog"));
    setWindowTitle(m_editing ? tr("Edit provider %1").arg(existing->id) : tr("Add a provider"));
    m_banner->setObjectName(QStringLiteral("providerDialogBanner"));
    m_tabs->setObjectName(QStringLiteral("providerTabs"));
    m_tabs->addTab(buildConnectionTab(), tr("&Connection"));
    m_tabs->addTab(buildLimitsTab(), tr("&Limits"));
    m_tabs->addTab(buildModelsTab(), tr("&Models"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    m_save = buttons->button(QDialogButtonBox::Save);
    m_save->setObjectName(QStringLiteral("saveButton"));
    m_save->setText(m_editing ? tr("&Save") : tr("&Add provider"));
    buttons->button(QDialogButtonBox::Cancel)->setObjectName(QStringLiteral("cancelButton"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ProviderDialog::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(16, 16, 16, 12);
    layout->setSpacing(10);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(buttons);

    ProviderConfig initial;
    initial.type = QStringLiteral("groq");
    if (existing) {
        m_original = *existing;
        initial = *existing;
    }
    loadFrom(initial);
    resize(640, 470);
    (m_editing ? m_name : m_id)->setFocus();
}

QWidget *ProviderDialog::buildConnectionTab()
{
    auto *page = new QWidget(this);
    auto *form = new QFormLayout(page);
    form->setContentsMargins(12, 12, 12, 12);
    form->setSpacing(8);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);

    m_id = new QLineEdit(page);
    m_id->setObjectName(QStringLiteral("providerId"));
    m_id->setAccessibleName(tr("Provider ID"));
    m_id->setPlaceholderText(tr("e.g. groq"));
    m_id->setToolTip(m_editing ? tr("The ID cannot change: chains refer to it.")
                               : tr("Letters, digits, dot, dash, underscore. Chains refer to it."));
    form->addRow(tr("&ID:"), m_id);

    m_name = new QLineEdit(page);
    m_name->setObjectName(QStringLiteral("providerName"));
    m_name->setAccessibleName(tr("Provider name"));
    m_name->setPlaceholderText(tr("Shown in lists; the ID when empty"));
    form->addRow(tr("&Name:"), m_name);

    m_type = new QComboBox(page);
    m_type->setObjectName(QStringLiteral("providerType"));
    m_type->setAccessibleName(tr("Provider type"));
    for (const QString &type : ProviderKind::knownTypes())
        m_type->addItem(ProviderKind::label(type), type);
    connect(m_type, &QComboBox::currentIndexChanged, this, &ProviderDialog::onTypeChanged);
    form->addRow(tr("&Type:"), m_type);

    m_baseUrl = new QLineEdit(page);
    m_baseUrl->setObjectName(QStringLiteral("providerBaseUrl"));
    m_baseUrl->setAccessibleName(tr("Base URL"));
    m_urlHint = new QLabel(page);
    m_urlHint->setObjectName(QStringLiteral("providerUrlHint"));
    m_urlHint->setWordWrap(true);
    m_urlHint->setForegroundRole(QPalette::PlaceholderText);
    auto *urlBox = new QVBoxLayout;
    urlBox->setSpacing(2);
    urlBox->addWidget(m_baseUrl);
    urlBox->addWidget(m_urlHint);
    auto *urlLabel = new QLabel(tr("Base &URL:"), page);
    urlLabel->setBuddy(m_baseUrl);
    form->addRow(urlLabel, urlBox);

    m_apiKey = new QLineEdit(page);
    m_apiKey->setObjectName(QStringLiteral("providerApiKey"));
    m_apiKey->setAccessibleName(tr("API key"));
    m_apiKey->setEchoMode(QLineEdit::Password);
    m_apiKey->setPlaceholderText(m_editing ? tr("Leave empty to keep the stored key")
                                           : tr("The provider's API key, or ${ENV_VAR}"));
    m_reveal = new QToolButton(page);
    m_reveal->setObjectName(QStringLiteral("revealKey"));
    m_reveal->setCheckable(true);
    m_reveal->setToolButtonStyle(Qt::ToolButtonTextOnly);
    connect(m_reveal, &QToolButton::toggled, this, &ProviderDialog::setKeyRevealed);
    auto *keyBox = new QHBoxLayout;
    keyBox->setSpacing(6);
    keyBox->addWidget(m_apiKey, 1);
    keyBox->addWidget(m_reveal);
    auto *keyLabel = new QLabel(tr("API &key:"), page);
    keyLabel->setBuddy(m_apiKey);
    form->addRow(keyLabel, keyBox);
    setKeyRevealed(false);

    m_timeout = new QSpinBox(page);
    m_timeout->setObjectName(QStringLiteral("providerTimeout"));
    m_timeout->setAccessibleName(tr("Timeout in milliseconds"));
    m_timeout->setRange(0, std::numeric_limits<int>::max());
    m_timeout->setSingleStep(1000);
    m_timeout->setSuffix(tr(" ms"));
    m_timeout->setSpecialValueText(tr("Default (settings)"));
    m_timeout->setMinimumWidth(200);
    m_timeout->setToolTip(tr("Per attempt. The default is the request timeout of the settings."));
    form->addRow(tr("T&imeout:"), m_timeout);

    m_enabled = new QCheckBox(tr("&Enabled: chains use this provider"), page);
    m_enabled->setObjectName(QStringLiteral("providerEnabled"));
    form->addRow(QString(), m_enabled);
    return page;
}

QWidget *ProviderDialog::buildLimitsTab()
{
    auto *page = new QWidget(this);
    auto *outer = new QVBoxLayout(page);
    outer->setContentsMargins(12, 12, 12, 12);
    auto *intro = new QLabel(tr("Used when the provider does not state its limits in its answers. "
                                "\"No limit\" leaves it to what the provider reports."),
                             page);
    intro->setWordWrap(true);
    outer->addWidget(intro);
    auto *form = new QFormLayout;
    form->setSpacing(8);
    for (const LimitField &field : kLimitFields) {
        auto *spin = new QSpinBox(page);
        spin->setObjectName(QLatin1String(field.objectName));
        spin->setRange(0, std::numeric_limits<int>::max());
        spin->setSpecialValueText(tr("No limit"));
        spin->setGroupSeparatorShown(true);
        const QString label = tr(field.label);
        spin->setAccessibleName(label.chopped(1));
        form->addRow(label, spin);
        m_limits.append(spin);
    }
    m_scope = new QComboBox(page);
    m_scope->setObjectName(QStringLiteral("limitScope"));
    m_scope->setAccessibleName(tr("Limits apply to"));
    m_scope->addItem(tr("Each model separately"), QStringLiteral("model"));
    m_scope->addItem(tr("All models of the provider together"), QStringLiteral("provider"));
    form->addRow(tr("Limits apply &to:"), m_scope);
    outer->addLayout(form);
    outer->addStretch(1);
    return page;
}

QWidget *ProviderDialog::buildModelsTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(8);

    m_fetch = new QPushButton(tr("&Fetch models"), page);
    m_fetch->setObjectName(QStringLiteral("fetchModels"));
    m_fetch->setAccessibleName(tr("Fetch the provider's models"));
    connect(m_fetch, &QPushButton::clicked, this, &ProviderDialog::fetchModels);
    m_modelsNote = new QLabel(page);
    m_modelsNote->setObjectName(QStringLiteral("modelsNote"));
    m_modelsNote->setWordWrap(true);
    auto *top = new QHBoxLayout;
    top->addWidget(m_fetch);
    top->addWidget(m_modelsNote, 1);
    layout->addLayout(top);

    m_models = new QTreeWidget(page);
    m_models->setObjectName(QStringLiteral("modelList"));
    m_models->setAccessibleName(tr("Models of the provider"));
    m_models->setRootIsDecorated(false);
    m_models->setUniformRowHeights(true);
    m_models->setAlternatingRowColors(true);
    m_models->setSortingEnabled(true);
    m_models->setHeaderLabels({tr("Model"), tr("Context"), tr("Price")});
    m_models->header()->setSectionResizeMode(ModelIdColumn, QHeaderView::Stretch);
    m_models->header()->setSectionResizeMode(ModelContextColumn, QHeaderView::ResizeToContents);
    m_models->header()->setSectionResizeMode(ModelPriceColumn, QHeaderView::ResizeToContents);
    m_models->header()->setStretchLastSection(false);
    layout->addWidget(m_models, 1);

    m_addToChain = new QPushButton(tr("Add to c&hain…"), page);
    m_addToChain->setObjectName(QStringLiteral("addToChain"));
    m_addToChain->setAccessibleName(tr("Add the selected model to a chain"));
    m_addToChain->setEnabled(false);
    connect(m_addToChain, &QPushButton::clicked, this, &ProviderDialog::addToChain);
    connect(m_models, &QTreeWidget::itemSelectionChanged, this,
            [this] { m_addToChain->setEnabled(m_models->currentItem() != nullptr); });
    connect(m_models, &QTreeWidget::itemActivated, this, &ProviderDialog::addToChain);
    auto *bottom = new QHBoxLayout;
    bottom->addStretch(1);
    bottom->addWidget(m_addToChain);
    layout->addLayout(bottom);

    if (m_editing) {
        m_modelsNote->setText(tr("Asks the provider for its models with the stored key and address."));
    } else {
        m_fetch->setEnabled(false);
        m_modelsNote->setText(tr("Add the provider first; then edit it to list its models."));
    }
    return page;
}

void ProviderDialog::loadFrom(const ProviderConfig &provider)
{
    m_id->setText(provider.id);
    m_id->setReadOnly(m_editing);
    m_name->setText(provider.name == provider.id ? QString() : provider.name);
    const int typeIndex = m_type->findData(provider.type);
    if (typeIndex < 0) // a type this build does not list: still show it, the core decides
        m_type->addItem(provider.type, provider.type);
    {
        const QSignalBlocker block(m_type);
        m_type->setCurrentIndex(m_type->findData(provider.type));
    }
    m_lastDefaultUrl = ProviderKind::defaultBaseUrl(provider.type);
    m_baseUrl->setText(provider.baseUrl.isEmpty() ? m_lastDefaultUrl : provider.baseUrl);
    onTypeChanged();
    m_timeout->setValue(provider.timeoutMs ? int(qMin<qint64>(*provider.timeoutMs, m_timeout->maximum()))
                                           : 0);
    m_enabled->setChecked(provider.enabled);
    for (int i = 0; i < m_limits.size(); ++i) {
        const std::optional<int> &value = provider.rateLimits.*(kLimitFields[i].member);
        m_limits.at(i)->setValue(value.value_or(0));
    }
    m_scope->setCurrentIndex(provider.rateLimits.scope == ManualRateLimits::Scope::Provider ? 1 : 0);
}

void ProviderDialog::onTypeChanged()
{
    const QString type = m_type->currentData().toString();
    const QString url = ProviderKind::defaultBaseUrl(type);
    // The field follows the type while it holds the previous type's default (or nothing).
    const QString current = m_baseUrl->text().trimmed();
    if (current.isEmpty() || current == m_lastDefaultUrl)
        m_baseUrl->setText(url);
    m_lastDefaultUrl = url;
    if (url.isEmpty()) {
        m_baseUrl->setPlaceholderText(tr("https://host:port/v1"));
        m_urlHint->setText(tr("Required for this type: the server's base URL, as a rule ending in /v1."));
    } else {
        m_baseUrl->setPlaceholderText(url);
        m_urlHint->setText(
            tr("The default for %1 is filled in; change it for a proxy or a self-hosted server.")
                .arg(ProviderKind::label(type)));
    }
}

void ProviderDialog::setKeyRevealed(bool revealed)
{
    m_apiKey->setEchoMode(revealed ? QLineEdit::Normal : QLineEdit::Password);
    m_reveal->setText(revealed ? tr("Hide") : tr("Show"));
    m_reveal->setAccessibleName(revealed ? tr("Hide the API key") : tr("Show the API key"));
    m_reveal->setToolTip(m_editing ? tr("Shows what you type; the stored key is never shown")
                                   : tr("Shows the key as typed"));
}

ProviderConfig ProviderDialog::collect() const
{
    ProviderConfig p = m_original; // keeps what this dialog does not edit (extra headers)
    p.line = 0;
    p.id = m_id->text().trimmed();
    p.name = m_name->text().trimmed().isEmpty() ? p.id : m_name->text().trimmed();
    p.type = m_type->currentData().toString();
    const QString url = m_baseUrl->text().trimmed();
    // The type's default is written as "no baseUrl" so the file stays short, unless it was written out
    // before.
    if (url == ProviderKind::defaultBaseUrl(p.type) && !(m_editing && m_original.baseUrl == url))
        p.baseUrl.clear();
    else
        p.baseUrl = url;
    p.apiKey = m_apiKey->text().trimmed();
    p.timeoutMs = m_timeout->value() > 0 ? std::optional<qint64>(m_timeout->value()) : std::nullopt;
    p.enabled = m_enabled->isChecked();
    for (int i = 0; i < m_limits.size(); ++i) {
        const int value = m_limits.at(i)->value();
        p.rateLimits.*(kLimitFields[i].member) = value > 0 ? std::optional<int>(value) : std::nullopt;
    }
    p.rateLimits.scope = m_scope->currentData().toString() == QLatin1String("provider")
                             ? ManualRateLimits::Scope::Provider
                             : ManualRateLimits::Scope::Model;
    return p;
}

void ProviderDialog::save()
{
    const ProviderConfig provider = collect();
    if (!m_editing && !provider.id.isEmpty() && m_bridge->fileConfig()->provider(provider.id)) {
        // Saving would replace the other provider of that id: say so instead.
        m_banner->showMessage(
            StatusBanner::Kind::Error,
            tr("A provider \"%1\" exists already: edit it instead, or choose another ID.").arg(provider.id));
        m_tabs->setCurrentIndex(0);
        m_id->setFocus();
        return;
    }
    m_banner->clearMessage();
    m_save->setEnabled(false);
    m_bridge->upsertProvider(provider, m_editing, this, [this, provider](const AdminResult &result) {
        m_save->setEnabled(true);
        if (!result.ok()) {
            m_banner->showMessage(StatusBanner::Kind::Error, result.error);
            return;
        }
        m_savedId = provider.id;
        m_savedMessage = result.message;
        accept();
    });
}

void ProviderDialog::fetchModels()
{
    m_fetch->setEnabled(false);
    m_models->clear();
    m_addToChain->setEnabled(false);
    m_modelsNote->setText(tr("Asking %1 for its models…").arg(m_original.id));
    m_bridge->fetchModels(m_original.id, this, [this](const ServiceBridge::ModelList &list) {
        m_fetch->setEnabled(true);
        if (!list.ok) {
            m_modelsNote->setText(tr("Could not list the models: %1").arg(list.error));
            return;
        }
        const QLocale locale;
        int freeCount = 0;
        m_models->setSortingEnabled(false);
        for (const ProviderModels::Model &model : list.models) {
            auto *item = new QTreeWidgetItem(m_models);
            item->setText(ModelIdColumn, model.id);
            item->setToolTip(ModelIdColumn, model.id);
            if (model.contextLength) {
                item->setText(ModelContextColumn, locale.toString(*model.contextLength));
                item->setData(ModelContextColumn, Qt::UserRole, *model.contextLength);
            } else {
                item->setText(ModelContextColumn, QStringLiteral("–"));
            }
            item->setTextAlignment(ModelContextColumn, Qt::AlignRight | Qt::AlignVCenter);
            if (model.free.has_value()) {
                item->setText(ModelPriceColumn, *model.free ? tr("Free") : tr("Paid"));
                freeCount += *model.free ? 1 : 0;
            } else {
                item->setText(ModelPriceColumn, tr("Not stated"));
            }
        }
        m_models->setSortingEnabled(true);
        m_models->sortByColumn(ModelIdColumn, Qt::AscendingOrder);
        if (list.models.isEmpty())
            m_modelsNote->setText(tr("The provider listed no models."));
        else
            m_modelsNote->setText(tr("Models: %1, free: %2. Pick one and add it to a chain.")
                                      .arg(list.models.size())
                                      .arg(freeCount));
    });
}

void ProviderDialog::addToChain()
{
    const QTreeWidgetItem *item = m_models->currentItem();
    if (!item)
        return;
    const QString model = item->text(ModelIdColumn);
    const std::shared_ptr<const Config> config = m_bridge->fileConfig();
    QStringList names;
    for (const ChainConfig &chain : config->chains)
        names << chain.name;
    if (names.isEmpty()) {
        m_banner->showMessage(StatusBanner::Kind::Error,
                              tr("There is no chain yet: create one on the Chains page."));
        return;
    }
    bool ok = false;
    const int current = qMax(0, int(names.indexOf(config->settings.defaultChain)));
    const QString name = QInputDialog::getItem(
        this, tr("Add to chain"), tr("Add %1 / %2 at the end of the chain:").arg(m_original.id, model), names,
        current, false, &ok);
    if (!ok || name.isEmpty())
        return;
    const ChainConfig *found = config->chain(name);
    if (!found)
        return;
    ChainConfig chain = *found;
    for (const ChainEntry &entry : chain.entries) {
        if (entry.provider == m_original.id && entry.model == model) {
            m_banner->showMessage(StatusBanner::Kind::Info,
                                  tr("%1 / %2 is in chain %3 already.").arg(m_original.id, model, name));
            return;
        }
    }
    ChainEntry entry;
    entry.provider = m_original.id;
    entry.model = model;
    chain.entries.append(entry);
    m_bridge->upsertChain(chain, this, [this, model, name](const AdminResult &result) {
        if (!result.ok()) {
            m_banner->showMessage(StatusBanner::Kind::Error, result.error);
            return;
        }
        m_banner->showMessage(StatusBanner::Kind::Success,
                              tr("%1 / %2 added to chain %3.").arg(m_original.id, model, name));
    });
}
