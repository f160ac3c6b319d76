#include "apikeyspanel.h"

#include "clientkey.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QClipboard>
#include <QFrame>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

namespace {

QLabel *hint(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

} // namespace

ApiKeysPanel::ApiKeysPanel(ServiceBridge *bridge, StatusBanner *banner, QWidget *parent)
    : QGroupBox(tr("API keys"), parent), m_bridge(bridge), m_banner(banner)
{
    setObjectName(QStringLiteral("apiKeysPanel"));
    QGroupBox *box = this;
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(8);
    layout->addWidget(
        hint(tr("Clients send one of these as their Bearer token. Keys are stored in the config "
                "file; the list shows them masked."),
             box));

    m_newKeyBox = new QFrame(box);
    m_newKeyBox->setObjectName(QStringLiteral("newKeyBox"));
    m_newKeyBox->setFrameShape(QFrame::StyledPanel);
    m_newKey = new QLineEdit(m_newKeyBox);
    m_newKey->setObjectName(QStringLiteral("newKey"));
    m_newKey->setAccessibleName(tr("The new API key"));
    m_newKey->setReadOnly(true);
    auto *copyNew = new QPushButton(tr("Copy"), m_newKeyBox);
    copyNew->setObjectName(QStringLiteral("copyNewKey"));
    copyNew->setAccessibleName(tr("Copy the new API key"));
    connect(copyNew, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_newKey->text());
        m_banner->showMessage(StatusBanner::Kind::Info, tr("The new key is on the clipboard."));
    });
    auto *newLayout = new QVBoxLayout(m_newKeyBox);
    newLayout->addWidget(
        new QLabel(tr("New key added. Copy it now: it is shown here only once."), m_newKeyBox));
    auto *newRow = new QHBoxLayout;
    newRow->addWidget(m_newKey, 1);
    newRow->addWidget(copyNew);
    newLayout->addLayout(newRow);
    m_newKeyBox->hide();
    layout->addWidget(m_newKeyBox);

    m_keys = new QListWidget(box);
    m_keys->setObjectName(QStringLiteral("apiKeyList"));
    m_keys->setAccessibleName(tr("API keys, masked"));
    m_keys->setMaximumHeight(m_keys->fontMetrics().height() * 4 + 12);
    connect(m_keys, &QListWidget::itemSelectionChanged, this, &ApiKeysPanel::updateButtons);
    layout->addWidget(m_keys);

    m_generate = new QPushButton(tr("&Generate key"), box);
    m_generate->setObjectName(QStringLiteral("generateKey"));
    m_copyKey = new QPushButton(tr("&Copy key"), box);
    m_copyKey->setObjectName(QStringLiteral("copyKey"));
    m_copyKey->setAccessibleName(tr("Copy the selected API key"));
    m_revoke = new QPushButton(tr("&Revoke…"), box);
    m_revoke->setObjectName(QStringLiteral("revokeKey"));
    m_revoke->setAccessibleName(tr("Revoke the selected API key"));
    connect(m_generate, &QPushButton::clicked, this, &ApiKeysPanel::generate);
    connect(m_copyKey, &QPushButton::clicked, this, &ApiKeysPanel::copySelectedKey);
    connect(m_revoke, &QPushButton::clicked, this, &ApiKeysPanel::revokeSelectedKey);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_generate);
    buttons->addWidget(m_copyKey);
    buttons->addWidget(m_revoke);
    buttons->addStretch(1);
    layout->addLayout(buttons);

    m_adminBox = new QGroupBox(tr("Admin keys"), box);
    m_adminBox->setObjectName(QStringLiteral("adminKeysBox"));
    auto *adminLayout = new QVBoxLayout(m_adminBox);
    adminLayout->addWidget(
        hint(tr("Only these keys open the admin API (settings.adminKeys); edit them in the "
                "config file."),
             m_adminBox));
    m_adminKeys = new QListWidget(m_adminBox);
    m_adminKeys->setObjectName(QStringLiteral("adminKeyList"));
    m_adminKeys->setAccessibleName(tr("Admin keys, masked"));
    m_adminKeys->setMaximumHeight(80);
    adminLayout->addWidget(m_adminKeys);
    auto *copyAdmin = new QPushButton(tr("Copy admin key"), m_adminBox);
    copyAdmin->setObjectName(QStringLiteral("copyAdminKey"));
    connect(copyAdmin, &QPushButton::clicked, this, [this] {
        const QStringList keys = m_bridge->fileConfig()->settings.adminKeys;
        const int row = m_adminKeys->currentRow();
        if (row < 0 || row >= keys.size())
            return;
        QGuiApplication::clipboard()->setText(keys.at(row));
        m_banner->showMessage(StatusBanner::Kind::Info, tr("Admin key %1 is on the clipboard.").arg(row + 1));
    });
    adminLayout->addWidget(copyAdmin, 0, Qt::AlignLeft);
    layout->addWidget(m_adminBox);
    refresh();
}

void ApiKeysPanel::refresh()
{
    const std::shared_ptr<const Config> file = m_bridge->fileConfig();
    const int keepRow = m_keys->currentRow();
    m_keys->clear();
    for (int i = 0; i < file->settings.apiKeys.size(); ++i)
        m_keys->addItem(tr("Key %1:  %2").arg(i + 1).arg(maskKey(file->settings.apiKeys.at(i))));
    if (m_keys->count() > 0)
        m_keys->setCurrentRow(qBound(0, keepRow, m_keys->count() - 1));
    m_adminKeys->clear();
    for (int i = 0; i < file->settings.adminKeys.size(); ++i)
        m_adminKeys->addItem(tr("Admin key %1:  %2").arg(i + 1).arg(maskKey(file->settings.adminKeys.at(i))));
    if (m_adminKeys->count() > 0)
        m_adminKeys->setCurrentRow(0);
    m_adminBox->setVisible(!file->settings.adminKeys.isEmpty());

    updateButtons();
}

void ApiKeysPanel::updateButtons()
{
    const bool key = m_keys->currentRow() >= 0;
    m_copyKey->setEnabled(key);
    m_revoke->setEnabled(key);
}

QString ApiKeysPanel::maskKey(const QString &key)
{
    if (key.size() < 16)
        return QString(8, QChar(0x2022));
    return key.left(8) + QString(6, QChar(0x2022)) + key.right(4);
}

void ApiKeysPanel::saveKeys(const QStringList &keys, const QString &what, const QString &newKey)
{
    // Only the keys change; the form's unapplied edits stay in the form.
    Settings settings = m_bridge->fileConfig()->settings;
    settings.apiKeys = keys;
    m_generate->setEnabled(false);
    m_bridge->updateSettings(settings, this, [this, what, newKey](const AdminResult &result) {
        m_generate->setEnabled(true);
        if (!result.ok()) {
            m_banner->showMessage(StatusBanner::Kind::Error, result.error);
            return;
        }
        refresh();
        m_newKeyBox->setVisible(!newKey.isEmpty());
        m_newKey->setText(newKey);
        if (!newKey.isEmpty()) {
            m_keys->setCurrentRow(m_keys->count() - 1);
            m_newKey->selectAll();
            m_newKey->setFocus();
        }
        m_banner->showMessage(StatusBanner::Kind::Success, what);
        updateButtons();
    });
}

void ApiKeysPanel::generate()
{
    const QString key = ClientKey::generate();
    QStringList keys = m_bridge->fileConfig()->settings.apiKeys;
    keys << key;
    saveKeys(keys, tr("Key %1 added.").arg(keys.size()), key);
}

void ApiKeysPanel::copySelectedKey()
{
    const QStringList keys = m_bridge->fileConfig()->settings.apiKeys;
    const int row = m_keys->currentRow();
    if (row < 0 || row >= keys.size())
        return;
    QGuiApplication::clipboard()->setText(keys.at(row));
    m_banner->showMessage(StatusBanner::Kind::Info, tr("Key %1 is on the clipboard.").arg(row + 1));
}

void ApiKeysPanel::revokeSelectedKey()
{
    QStringList keys = m_bridge->fileConfig()->settings.apiKeys;
    const int row = m_keys->currentRow();
    if (row < 0 || row >= keys.size())
        return;
    QMessageBox box(QMessageBox::Warning, tr("Revoke key"),
                    tr("Revoke key %1 (%2)?").arg(row + 1).arg(maskKey(keys.at(row))),
                    QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("confirmRevokeKey"));
    box.setInformativeText(tr("Every client using this key gets 401 from now on."));
    box.button(QMessageBox::Yes)->setText(tr("Revoke"));
    box.setDefaultButton(QMessageBox::Cancel);
    if (box.exec() != QMessageBox::Yes)
        return;
    keys.removeAt(row);
    m_newKeyBox->hide();
    saveKeys(keys, tr("Key %1 revoked.").arg(row + 1), QString());
}
