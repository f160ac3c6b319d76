#include "settingspage.h"

#include "apikeyspanel.h"
#include "configkeys.h"
#include "configvalidator.h"
#include "pageparts.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include <limits>

namespace {

constexpr int kIntMax = std::numeric_limits<int>::max();

int clampToInt(qint64 value)
{
    return int(qBound(qint64(std::numeric_limits<int>::min()), value, qint64(kIntMax)));
}

QLabel *hint(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

QStringList lines(const QString &text)
{
    QStringList out;
    for (const QString &line : text.split(QLatin1Char('\n'))) {
        if (!line.trimmed().isEmpty())
            out << line.trimmed();
    }
    return out;
}

const ConfigKeys::SettingKey &keyOf(const char *name)
{
    const ConfigKeys::SettingKey *key = ConfigKeys::setting(QLatin1String(name));
    Q_ASSERT(key);
    return *key;
}

// The form label of a setting: "after restart" when the key table says it needs one.
QString rowLabel(const char *name, const QString &label)
{
    return keyOf(name).restartOnly ? SettingsPage::tr("%1 (after restart):").arg(label)
                                   : SettingsPage::tr("%1:").arg(label);
}

// The key table's description of a setting, as the tooltip of its field.
void describe(QWidget *field, const char *name)
{
    field->setToolTip(keyOf(name).translatedDescription());
}

QFormLayout *formIn(QGroupBox *box)
{
    auto *form = new QFormLayout(box);
    form->setContentsMargins(12, 12, 12, 12);
    form->setSpacing(8);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    return form;
}

} // namespace

SettingsPage::SettingsPage(ServiceBridge *bridge, QWidget *parent)
    : QWidget(parent), m_bridge(bridge), m_banner(new StatusBanner(this))
{
    setObjectName(QStringLiteral("settingsPage"));
    m_banner->setObjectName(QStringLiteral("settingsBanner"));

    auto *title = PageParts::title(tr("Settings"), this);

    auto *content = new QWidget(this);
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 12, 0);
    contentLayout->setSpacing(14);
    m_keysPanel = new ApiKeysPanel(m_bridge, m_banner, content);
    contentLayout->addWidget(m_keysPanel);
    contentLayout->addWidget(buildRouting());
    contentLayout->addWidget(buildQueue());
    contentLayout->addWidget(buildServer());
    contentLayout->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("settingsScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(content);

    m_apply = new QPushButton(tr("&Apply"), this);
    m_apply->setObjectName(QStringLiteral("applySettings"));
    m_apply->setAccessibleName(tr("Apply the settings"));
    m_apply->setDefault(true);
    m_revert = new QPushButton(tr("Re&vert"), this);
    m_revert->setObjectName(QStringLiteral("revertSettings"));
    m_revert->setAccessibleName(tr("Revert to the saved settings"));
    connect(m_apply, &QPushButton::clicked, this, &SettingsPage::apply);
    connect(m_revert, &QPushButton::clicked, this, &SettingsPage::revert);
    auto *bar = new QHBoxLayout;
    bar->addWidget(hint(tr("Settings are saved to the config file and applied at once, except those marked "
                           "\"after restart\"."),
                        this),
                   1);
    bar->addWidget(m_revert);
    bar->addWidget(m_apply);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    layout->setSpacing(12);
    layout->addWidget(title);
    layout->addWidget(m_banner);
    layout->addWidget(scroll, 1);
    layout->addLayout(bar);

    connect(m_bridge, &ServiceBridge::configChanged, this, [this] {
        m_keysPanel->refresh();
        refreshRunning();
        if (hasUnappliedChanges())
            refreshChains(); // keep the user's edits
        else
            loadForm();
    });
    loadForm();
}

QSpinBox *SettingsPage::spin(const char *key, const QString &accessibleName, const QString &suffix)
{
    auto *box = new QSpinBox(this);
    box->setObjectName(QLatin1String(key));
    box->setAccessibleName(accessibleName);
    // Below the table's minimum is allowed here: the core refuses it with a message that says why.
    box->setRange(0, clampToInt(keyOf(key).maximum));
    describe(box, key);
    box->setSuffix(suffix);
    box->setGroupSeparatorShown(true);
    box->setFixedWidth(200);
    connect(box, &QSpinBox::valueChanged, this, &SettingsPage::updateState);
    return box;
}

QWidget *SettingsPage::buildRouting()
{
    auto *box = new QGroupBox(tr("Routing"), this);
    auto *form = formIn(box);
    m_defaultChain = new QComboBox(box);
    m_defaultChain->setObjectName(QStringLiteral("defaultChain"));
    m_defaultChain->setAccessibleName(tr("Default chain"));
    m_defaultChain->setMinimumWidth(200);
    describe(m_defaultChain, "defaultChain");
    connect(m_defaultChain, &QComboBox::currentIndexChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("defaultChain", tr("De&fault chain")), m_defaultChain);
    m_cooldownDefault = spin("cooldownDefaultMs", tr("Default cooldown"), tr(" ms"));
    m_cooldownDefault->setSingleStep(1000);
    form->addRow(rowLabel("cooldownDefaultMs", tr("Default cooldown")), m_cooldownDefault);
    m_requestTimeout = spin("requestTimeoutMs", tr("Request timeout"), tr(" ms"));
    m_requestTimeout->setSingleStep(1000);
    form->addRow(rowLabel("requestTimeoutMs", tr("Request &timeout")), m_requestTimeout);
    m_streamIdleTimeout = spin("streamIdleTimeoutMs", tr("Stream idle timeout"), tr(" ms"));
    m_streamIdleTimeout->setSingleStep(1000);
    form->addRow(rowLabel("streamIdleTimeoutMs", tr("Stream &idle timeout")), m_streamIdleTimeout);
    m_normalize =
        new QCheckBox(tr("&Normalize responses (move reasoning_content into an empty content)"), box);
    m_normalize->setObjectName(QStringLiteral("normalizeResponses"));
    describe(m_normalize, "normalizeResponses");
    connect(m_normalize, &QCheckBox::toggled, this, &SettingsPage::updateState);
    form->addRow(QString(), m_normalize);
    m_midStreamThreshold =
        spin("midStreamFailureThreshold", tr("Mid-stream failures before a cooldown"), QString());
    form->addRow(rowLabel("midStreamFailureThreshold", tr("Mid-stream failures before a cooldown")),
                 m_midStreamThreshold);
    m_midStreamCooldown = spin("midStreamCooldownMs", tr("First mid-stream cooldown"), tr(" ms"));
    m_midStreamCooldown->setSingleStep(1000);
    form->addRow(rowLabel("midStreamCooldownMs", tr("First mid-stream cooldown")), m_midStreamCooldown);
    m_midStreamCooldownMax = spin("midStreamCooldownMaxMs", tr("Longest mid-stream cooldown"), tr(" ms"));
    m_midStreamCooldownMax->setSingleStep(1000);
    form->addRow(rowLabel("midStreamCooldownMaxMs", tr("Longest mid-stream cooldown")),
                 m_midStreamCooldownMax);
    return box;
}

QWidget *SettingsPage::buildQueue()
{
    auto *box = new QGroupBox(tr("Queue mode"), this);
    auto *form = formIn(box);
    m_queueMode =
        new QCheckBox(tr("&Queue requests while their chain is exhausted (instead of answering 429)"), box);
    m_queueMode->setObjectName(QStringLiteral("queueMode"));
    describe(m_queueMode, "queueMode");
    connect(m_queueMode, &QCheckBox::toggled, this, &SettingsPage::updateState);
    form->addRow(m_queueMode);
    m_queueMaxWait = spin("queueMaxWaitMs", tr("Longest wait in the queue"), tr(" ms"));
    m_queueMaxWait->setSingleStep(1000);
    form->addRow(rowLabel("queueMaxWaitMs", tr("Longest &wait")), m_queueMaxWait);
    m_queueMaxSize = spin("queueMaxSize", tr("Queue size per chain"), QString());
    form->addRow(rowLabel("queueMaxSize", tr("Queue si&ze per chain")), m_queueMaxSize);
    return box;
}

QWidget *SettingsPage::buildServer()
{
    auto *box = new QGroupBox(tr("Server and request log"), this);
    auto *form = formIn(box);
    m_running = hint(QString(), box);
    m_running->setObjectName(QStringLiteral("runningAddress"));
    form->addRow(m_running);
    m_host = new QLineEdit(box);
    m_host->setObjectName(QStringLiteral("bindAddress"));
    m_host->setAccessibleName(tr("Bind address"));
    m_host->setMaximumWidth(320);
    describe(m_host, "host");
    connect(m_host, &QLineEdit::textChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("host", tr("&Bind address")), m_host);
    m_port = spin("port", tr("Port"), QString());
    m_port->setGroupSeparatorShown(false);
    form->addRow(rowLabel("port", tr("&Port")), m_port);
    m_logLevel = new QComboBox(box);
    m_logLevel->setObjectName(QStringLiteral("logLevel"));
    m_logLevel->setAccessibleName(tr("Log level"));
    m_logLevel->addItems(ConfigValidator::logLevels());
    m_logLevel->setMinimumWidth(200);
    describe(m_logLevel, "logLevel");
    connect(m_logLevel, &QComboBox::currentIndexChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("logLevel", tr("&Log level")), m_logLevel);
    m_dbPath = new QLineEdit(box);
    m_dbPath->setObjectName(QStringLiteral("dbPath"));
    m_dbPath->setAccessibleName(tr("Request log database"));
    describe(m_dbPath, "dbPath");
    connect(m_dbPath, &QLineEdit::textChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("dbPath", tr("Request log &database")), m_dbPath);
    m_logRetentionDays = spin("logRetentionDays", tr("Keep the request log"), tr(" days"));
    form->addRow(rowLabel("logRetentionDays", tr("&Keep the request log")), m_logRetentionDays);
    m_maxRequestBytes = spin("maxRequestBytes", tr("Largest request body"), tr(" bytes"));
    form->addRow(rowLabel("maxRequestBytes", tr("Largest request &body")), m_maxRequestBytes);
    m_corsOrigins = new QPlainTextEdit(box);
    m_corsOrigins->setObjectName(QStringLiteral("corsOrigins"));
    m_corsOrigins->setAccessibleName(tr("CORS origins, one per line"));
    m_corsOrigins->setPlaceholderText(tr("None: browsers on other sites cannot call the proxy"));
    describe(m_corsOrigins, "corsOrigins");
    m_corsOrigins->setTabChangesFocus(true);
    m_corsOrigins->setMaximumHeight(70);
    connect(m_corsOrigins, &QPlainTextEdit::textChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("corsOrigins", tr("CORS &origins (one per line)")), m_corsOrigins);
    m_allowedHosts = new QPlainTextEdit(box);
    m_allowedHosts->setObjectName(QStringLiteral("allowedHosts"));
    m_allowedHosts->setAccessibleName(tr("Allowed host names, one per line"));
    m_allowedHosts->setPlaceholderText(tr("None besides loopback names and the address listened on"));
    describe(m_allowedHosts, "allowedHosts");
    m_allowedHosts->setTabChangesFocus(true);
    m_allowedHosts->setMaximumHeight(70);
    connect(m_allowedHosts, &QPlainTextEdit::textChanged, this, &SettingsPage::updateState);
    form->addRow(rowLabel("allowedHosts", tr("Allowed &host names (one per line)")), m_allowedHosts);
    return box;
}

void SettingsPage::loadForm()
{
    const std::shared_ptr<const Config> file = m_bridge->fileConfig();
    const Settings &s = file->settings;
    m_loading = true;
    m_host->setText(s.host);
    m_port->setValue(s.port);
    const int level = m_logLevel->findText(s.logLevel);
    if (level < 0)
        m_logLevel->addItem(s.logLevel);
    m_logLevel->setCurrentIndex(m_logLevel->findText(s.logLevel));
    m_dbPath->setText(s.dbPath);
    m_logRetentionDays->setValue(s.logRetentionDays);
    m_maxRequestBytes->setValue(clampToInt(s.maxRequestBytes));
    m_corsOrigins->setPlainText(s.corsOrigins.join(QLatin1Char('\n')));
    m_allowedHosts->setPlainText(s.allowedHosts.join(QLatin1Char('\n')));
    m_cooldownDefault->setValue(clampToInt(s.cooldownDefaultMs));
    m_requestTimeout->setValue(clampToInt(s.requestTimeoutMs));
    m_streamIdleTimeout->setValue(clampToInt(s.streamIdleTimeoutMs));
    m_normalize->setChecked(s.normalizeResponses);
    m_midStreamThreshold->setValue(s.midStreamFailureThreshold);
    m_midStreamCooldown->setValue(clampToInt(s.midStreamCooldownMs));
    m_midStreamCooldownMax->setValue(clampToInt(s.midStreamCooldownMaxMs));
    m_queueMode->setChecked(s.queueMode);
    m_queueMaxWait->setValue(clampToInt(s.queueMaxWaitMs));
    m_queueMaxSize->setValue(s.queueMaxSize);
    refreshChains();
    m_defaultChain->setCurrentIndex(m_defaultChain->findData(s.defaultChain));
    m_loading = false;
    m_keysPanel->refresh();
    refreshRunning();
    updateState();
}

void SettingsPage::refreshChains()
{
    const std::shared_ptr<const Config> file = m_bridge->fileConfig();
    const QString keep = m_defaultChain->currentIndex() >= 0 ? m_defaultChain->currentData().toString()
                                                             : file->settings.defaultChain;
    const bool wasLoading = m_loading;
    m_loading = true;
    m_defaultChain->clear();
    for (const ChainConfig &chain : file->chains)
        m_defaultChain->addItem(chain.name, chain.name);
    if (m_defaultChain->findData(keep) < 0 && !keep.isEmpty())
        m_defaultChain->addItem(tr("%1 (no such chain)").arg(keep), keep);
    m_defaultChain->setCurrentIndex(m_defaultChain->findData(keep));
    m_loading = wasLoading;
}

void SettingsPage::refreshRunning()
{
    const Settings &running = m_bridge->config()->settings;
    m_running->setText(tr("Running on %1:%2 now. Settings marked \"after restart\" are saved to the file and "
                          "used from the next start.")
                           .arg(running.host)
                           .arg(running.port));
}

Settings SettingsPage::formSettings() const
{
    // Starts from the file's settings: what this form does not show (keys, newer settings) stays as it is.
    Settings s = m_bridge->fileConfig()->settings;
    s.host = m_host->text().trimmed();
    s.port = m_port->value();
    s.logLevel = m_logLevel->currentText();
    s.dbPath = m_dbPath->text().trimmed();
    s.logRetentionDays = m_logRetentionDays->value();
    s.maxRequestBytes = m_maxRequestBytes->value();
    s.corsOrigins = lines(m_corsOrigins->toPlainText());
    s.allowedHosts = lines(m_allowedHosts->toPlainText());
    if (m_defaultChain->currentIndex() >= 0)
        s.defaultChain = m_defaultChain->currentData().toString();
    s.cooldownDefaultMs = m_cooldownDefault->value();
    s.requestTimeoutMs = m_requestTimeout->value();
    s.streamIdleTimeoutMs = m_streamIdleTimeout->value();
    s.normalizeResponses = m_normalize->isChecked();
    s.midStreamFailureThreshold = m_midStreamThreshold->value();
    s.midStreamCooldownMs = m_midStreamCooldown->value();
    s.midStreamCooldownMaxMs = m_midStreamCooldownMax->value();
    s.queueMode = m_queueMode->isChecked();
    s.queueMaxWaitMs = m_queueMaxWait->value();
    s.queueMaxSize = m_queueMaxSize->value();
    return s;
}

bool SettingsPage::hasUnappliedChanges() const
{
    return !ConfigKeys::changedSettings(formSettings(), m_bridge->fileConfig()->settings).isEmpty();
}

void SettingsPage::updateState()
{
    if (m_loading)
        return;
    const bool dirty = hasUnappliedChanges();
    m_apply->setEnabled(dirty);
    m_revert->setEnabled(dirty);
    m_queueMaxWait->setEnabled(m_queueMode->isChecked());
    m_queueMaxSize->setEnabled(m_queueMode->isChecked());
}

void SettingsPage::apply()
{
    m_apply->setEnabled(false);
    m_bridge->updateSettings(formSettings(), this, [this](const AdminResult &result) {
        if (!result.ok()) {
            // The core refused: nothing changed; the form keeps the values so they can be corrected.
            m_banner->showMessage(StatusBanner::Kind::Error, tr("Settings not saved: %1").arg(result.error));
            updateState();
            return;
        }
        m_banner->showMessage(StatusBanner::Kind::Success, result.message);
        loadForm();
    });
}

void SettingsPage::revert()
{
    loadForm();
    m_banner->showMessage(StatusBanner::Kind::Info, tr("The form shows the saved settings again."));
}
