#include "entrypicker.h"

#include "servicebridge.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTreeView>

EntryPicker::EntryPicker(ServiceBridge *bridge, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
    , m_provider(new QComboBox(this))
    , m_model(new QComboBox(this))
    , m_models(new QStandardItemModel(this))
    , m_fetch(new QPushButton(tr("Fetch models"), this))
    , m_note(new QLabel(this))
{
    m_provider->setObjectName(QStringLiteral("entryProvider"));
    m_provider->setAccessibleName(tr("Provider of the entry"));
    m_provider->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_model->setObjectName(QStringLiteral("entryModel"));
    m_model->setAccessibleName(tr("Model of the entry"));
    m_model->setEditable(true);
    m_model->setInsertPolicy(QComboBox::NoInsert);
    m_model->lineEdit()->setPlaceholderText(tr("Type a model id or fetch the list"));
    m_model->setMinimumContentsLength(24);
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_model->setModel(m_models);
    auto *popup = new QTreeView(m_model);
    popup->setRootIsDecorated(false);
    popup->setUniformRowHeights(true);
    popup->header()->hide();
    popup->header()->setStretchLastSection(false);
    popup->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_model->setView(popup);
    m_fetch->setObjectName(QStringLiteral("entryFetchModels"));
    m_fetch->setAccessibleName(tr("Fetch the provider's models"));
    m_note->setObjectName(QStringLiteral("entryModelsNote"));
    m_note->setForegroundRole(QPalette::PlaceholderText);
    m_note->setWordWrap(true);

    connect(m_fetch, &QPushButton::clicked, this, &EntryPicker::fetchModels);
    connect(m_provider, &QComboBox::currentIndexChanged, this, [this] { showModels(provider()); });

    auto *form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->setSpacing(8);
    form->addRow(tr("&Provider:"), m_provider);
    auto *modelRow = new QHBoxLayout;
    modelRow->setSpacing(6);
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(m_fetch);
    auto *modelLabel = new QLabel(tr("&Model:"), this);
    modelLabel->setBuddy(m_model);
    form->addRow(modelLabel, modelRow);
    form->addRow(QString(), m_note);
    setTabOrder(m_provider, m_model);
    setTabOrder(m_model, m_fetch);
}

void EntryPicker::setProviders(const QList<ProviderConfig> &providers)
{
    const QString keep = provider();
    const QSignalBlocker block(m_provider);
    m_provider->clear();
    for (const ProviderConfig &p : providers) {
        const QString label = p.name.isEmpty() || p.name == p.id ? p.id : tr("%1 · %2").arg(p.name, p.id);
        m_provider->addItem(label, p.id);
    }
    const int index = m_provider->findData(keep);
    m_provider->setCurrentIndex(index >= 0 ? index : 0);
    m_fetch->setEnabled(!providers.isEmpty());
    showModels(provider());
}

QString EntryPicker::provider() const
{
    return m_provider->currentData().toString();
}

QString EntryPicker::model() const
{
    return m_model->currentText().trimmed();
}

void EntryPicker::setModel(const QString &model)
{
    m_model->setEditText(model);
}

void EntryPicker::clearModel()
{
    m_model->setEditText(QString());
}

void EntryPicker::fetchModels()
{
    const QString id = provider();
    if (id.isEmpty())
        return;
    m_fetch->setEnabled(false);
    m_note->setText(tr("Asking %1 for its models…").arg(id));
    m_bridge->fetchModels(id, this, [this, id](const ServiceBridge::ModelList &list) {
        m_fetch->setEnabled(true);
        if (!list.ok) {
            if (provider() == id)
                m_note->setText(tr("Could not list the models of %1: %2. Type the model id instead.")
                                    .arg(id, list.error));
            return;
        }
        const QLocale locale;
        QList<QStringList> rows;
        for (const ProviderModels::Model &model : list.models) {
            const QString price = !model.free.has_value() ? QString() : *model.free ? tr("free") : tr("paid");
            const QString context =
                model.contextLength ? tr("%1 tokens").arg(locale.toString(*model.contextLength)) : QString();
            rows.append({model.id, price, context});
        }
        std::sort(rows.begin(), rows.end(),
                  [](const QStringList &a, const QStringList &b) { return a.first() < b.first(); });
        m_fetched.insert(id, rows);
        if (provider() == id) {
            const QString typed = model();
            showModels(id);
            m_model->setEditText(typed);
            m_model->showPopup();
        }
    });
}

void EntryPicker::showModels(const QString &provider)
{
    const QString typed = model();
    m_models->clear();
    const auto it = m_fetched.constFind(provider);
    if (it == m_fetched.constEnd()) {
        m_note->setText(provider.isEmpty()
                            ? tr("Add a provider first.")
                            : tr("Type the model id, or fetch the provider's list to pick one."));
        m_model->setEditText(typed);
        return;
    }
    int free = 0;
    for (const QStringList &row : *it) {
        QList<QStandardItem *> items;
        for (const QString &text : row) {
            auto *item = new QStandardItem(text);
            item->setEditable(false);
            items << item;
        }
        items.first()->setToolTip(row.at(1).isEmpty() ? row.first()
                                                      : row.first() + QLatin1String(" – ") + row.at(1));
        free += row.at(1) == tr("free") ? 1 : 0;
        m_models->appendRow(items);
    }
    m_note->setText(tr("Models listed: %1, free: %2.").arg(it->size()).arg(free));
    m_model->setEditText(typed);
}
