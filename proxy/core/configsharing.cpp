#include "configsharing.h"

#include "proxyservice.h"
#include "sharedconfigstore.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSaveFile>

Q_LOGGING_CATEGORY(lcConfigShare, "chain.config.shared")

ConfigSharing::ConfigSharing(ProxyService &service, SharedConfigStore &store, QObject *parent)
    : QObject(parent), m_service(service), m_store(store)
{
}

ConfigSharing::~ConfigSharing()
{
    m_store.setSharedConfigReceiver(nullptr, {});
}

QByteArray ConfigSharing::readFile() const
{
    QFile file(m_service.fileConfig()->sourcePath);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void ConfigSharing::start()
{
    const QByteArray local = readFile();
    std::optional<QByteArray> stored = m_store.loadSharedConfig();
    if (!stored && !local.isEmpty()) {
        if (m_store.seedSharedConfig(local))
            qCInfo(lcConfigShare).noquote()
                << "the shared config was seeded from" << m_service.fileConfig()->sourcePath;
        stored = m_store.loadSharedConfig(); // another replica may have seeded it first
    }
    m_last = stored.value_or(local);
    connect(&m_service, &ProxyService::configChanged, this, &ConfigSharing::onLocalChange);
    m_store.setSharedConfigReceiver(this, [this](const QByteArray &yaml) { apply(yaml, "another replica"); });
    if (stored && *stored != local)
        apply(*stored, "the database");
}

void ConfigSharing::onLocalChange()
{
    const QByteArray content = readFile();
    if (content.isEmpty() || content == m_last)
        return; // what the store has (or a config we just took from it)
    m_last = content;
    m_store.saveSharedConfig(content);
}

void ConfigSharing::apply(const QByteArray &yaml, const char *from)
{
    if (yaml.isEmpty() || yaml == m_last)
        return;
    m_last = yaml;
    const QString path = m_service.fileConfig()->sourcePath;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(yaml) != yaml.size() || !file.commit()) {
        qCWarning(lcConfigShare).noquote()
            << "cannot write the shared config from" << from << "to" << path << ":" << file.errorString();
        return;
    }
    // The same validated path as a hand edit; a config this replica cannot load (a variable it lacks) keeps
    // its running config, with the reason in the log and the event feed.
    const AdminResult result = m_service.reloadFromDisk();
    if (result.status == 200) {
        ++m_applied;
        qCInfo(lcConfigShare).noquote() << "applied the shared config from" << from;
    }
}
