#include "newchaindialog.h"

#include "entrypicker.h"
#include "servicebridge.h"
#include "statusbanner.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

NewChainDialog::NewChainDialog(ServiceBridge *bridge, QWidget *parent)
    : QDialog(parent)
    , m_bridge(bridge)
    , m_error(new StatusBanner(this))
    , m_name(new QLineEdit(this))
    , m_picker(new EntryPicker(bridge, this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("newChainDialog"));
    setWindowTitle(tr("New chain"));
    auto *intro = new QLabel(tr("A chain needs a name (clients send it as the model) and a first entry; add "
                                "more entries once it exists."),
                             this);
    intro->setWordWrap(true);
    m_name->setObjectName(QStringLiteral("newChainName"));
    m_name->setAccessibleName(tr("Chain name"));
    m_name->setPlaceholderText(tr("e.g. fast"));
    m_picker->setProviders(m_bridge->fileConfig()->providers);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create chain"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("createChain"));
    m_error->setObjectName(QStringLiteral("newChainBanner"));
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &NewChainDialog::create);

    auto *form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(16, 16, 16, 12);
    layout->setSpacing(10);
    layout->addWidget(intro);
    layout->addWidget(m_error);
    layout->addLayout(form);
    layout->addWidget(m_picker);
    layout->addWidget(m_buttons);
    resize(520, sizeHint().height());
    m_name->setFocus();
}

void NewChainDialog::create()
{
    const QString name = m_name->text().trimmed();
    if (!name.isEmpty() && m_bridge->fileConfig()->chain(name)) {
        // Saving would replace that chain's entries: say so instead.
        m_error->showMessage(StatusBanner::Kind::Error, tr("A chain \"%1\" exists already.").arg(name));
        return;
    }
    ChainConfig chain;
    chain.name = name;
    ChainEntry entry;
    entry.provider = m_picker->provider();
    entry.model = m_picker->model();
    chain.entries.append(entry);
    m_buttons->setEnabled(false);
    m_bridge->upsertChain(chain, this, [this, name](const AdminResult &result) {
        m_buttons->setEnabled(true);
        if (!result.ok()) {
            m_error->showMessage(StatusBanner::Kind::Error, result.error);
            return;
        }
        m_created = name;
        m_resultMessage = result.message;
        accept();
    });
}
