// ProxyService's admin operations: validate a changed copy of the file's config, save it, apply it live.

#include "proxyservice.h"

#include "configkeys.h"
#include "configloader.h"
#include "configvalidator.h"
#include "configwriter.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>

#include <algorithm>

Q_DECLARE_LOGGING_CATEGORY(lcConfigOps)

namespace {

// Calls visit(key) for each restart-only setting (the key table's; PORT/HOST/LOG_LEVEL and --port/--host
// override port, host and logLevel).
template<typename Visit> void forEachRestartSetting(Visit &&visit)
{
    for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
        if (k.restartOnly)
            visit(k);
    }
}

// A provider whose key, type, address or headers changed (or that is gone) starts over: what the tracker knew
// (a 401 cooldown after a wrong key, a quota of another account) no longer applies.
void forgetChangedProviders(RateLimitTracker &tracker, const Config &before, const Config &after)
{
    for (const ProviderConfig &old : before.providers) {
        const ProviderConfig *now = after.provider(old.id);
        if (!now || now->apiKey != old.apiKey || now->type != old.type || now->baseUrl != old.baseUrl ||
            now->headers != old.headers)
            tracker.reset(old.id, QString());
    }
}

// Line numbers of the file no longer apply once the model is edited.
void forgetLines(Config &config)
{
    config.keyLines.clear();
    for (ProviderConfig &p : config.providers)
        p.line = 0;
    for (ChainConfig &c : config.chains) {
        c.line = 0;
        for (ChainEntry &e : c.entries)
            e.line = 0;
    }
}

QByteArray sha256(const QByteArray &content)
{
    return QCryptographicHash::hash(content, QCryptographicHash::Sha256);
}

} // namespace

Config ProxyService::withRestartSettings(Config fileConfig) const
{
    forEachRestartSetting(
        [&](const ConfigKeys::SettingKey &k) { k.copy(m_startSettings, fileConfig.settings); });
    return fileConfig;
}

QString ProxyService::restartNote(const Settings &before, const Settings &after) const
{
    // Changed in the file and different from what runs: only a restart applies it.
    QStringList pending;
    for (const QString &name : ConfigKeys::changedRestartSettings(before, after)) {
        if (ConfigKeys::changedRestartSettings(after, m_startSettings).contains(name))
            pending << name;
    }
    if (pending.isEmpty())
        return QString();
    return pending.size() == 1 ? tr("%1 takes effect after a restart").arg(pending.first())
                               : tr("%1 take effect after a restart").arg(pending.join(QLatin1String(", ")));
}

AdminResult ProxyService::commit(Config next, const QString &what)
{
    forgetLines(next);
    next.sourcePath = m_fileConfig->sourcePath;
    const QStringList unchangedRestart = [&] {
        QStringList same;
        forEachRestartSetting([&](const ConfigKeys::SettingKey &k) {
            if (k.equal(next.settings, m_fileConfig->settings))
                same << k.path();
        });
        return same;
    }();
    QStringList errors;
    for (const ConfigIssue &issue : ConfigValidator::check(next)) {
        // An unchanged restart-only value is what runs (port 0 from --port 0, say): not this edit's doing.
        if (unchangedRestart.contains(issue.path))
            continue;
        errors << issue.format(QString());
    }
    if (!errors.isEmpty())
        return AdminResult{400, errors.join(QLatin1String("; ")), QString()};

    AdminResult result;
    result.message = what;
    if (!next.sourcePath.isEmpty()) {
        QString error;
        QByteArray written;
        if (!ConfigWriter::write(next, next.sourcePath, &error, &written)) {
            qCWarning(lcConfigOps).noquote() << "config not saved:" << error;
            return AdminResult{500, tr("Failed to persist config: %1").arg(error), QString()};
        }
        m_fileHash = sha256(written);
    } else {
        result.message += tr(" (applied; not saved: the running config has no file)");
    }
    const QString note = restartNote(m_fileConfig->settings, next.settings);
    if (!note.isEmpty())
        result.message += QLatin1String(". ") + note;
    forgetChangedProviders(m_tracker, *m_fileConfig, next);
    applyFileConfig(next);
    qCInfo(lcConfigOps).noquote() << result.message;
    m_events.append(QStringLiteral("config_changed"), QStringLiteral("info"), result.message);
    emit configChanged();
    return result;
}

AdminResult ProxyService::upsertProvider(ProviderConfig provider, bool keepExistingKey)
{
    Config next = *m_fileConfig;
    const auto it = std::find_if(next.providers.begin(), next.providers.end(),
                                 [&](const ProviderConfig &p) { return p.id == provider.id; });
    const bool isNew = it == next.providers.end();
    if (keepExistingKey && provider.apiKey.isEmpty() && !isNew)
        provider.apiKey = it->apiKey;
    if (isNew)
        next.providers.append(provider);
    else
        *it = provider;
    return commit(std::move(next), isNew ? tr("Provider \"%1\" added").arg(provider.id)
                                         : tr("Provider \"%1\" updated").arg(provider.id));
}

AdminResult ProxyService::deleteProvider(const QString &id)
{
    Config next = *m_fileConfig;
    const auto it = std::find_if(next.providers.begin(), next.providers.end(),
                                 [&](const ProviderConfig &p) { return p.id == id; });
    if (it == next.providers.end())
        return AdminResult{404, tr("Provider not found"), QString()};
    QStringList users;
    for (const ChainConfig &chain : next.chains) {
        const bool uses = std::any_of(chain.entries.cbegin(), chain.entries.cend(),
                                      [&](const ChainEntry &e) { return e.provider == id; });
        if (uses)
            users << chain.name;
    }
    if (!users.isEmpty())
        return AdminResult{
            409, tr("Provider is referenced by chains: %1").arg(users.join(QLatin1String(", "))), QString()};
    next.providers.erase(it);
    return commit(std::move(next), tr("Provider \"%1\" deleted").arg(id));
}

AdminResult ProxyService::upsertChain(const ChainConfig &chain)
{
    Config next = *m_fileConfig;
    QStringList missing;
    for (const ChainEntry &entry : chain.entries) {
        if (!entry.provider.isEmpty() && !next.provider(entry.provider) && !missing.contains(entry.provider))
            missing << entry.provider;
    }
    if (!missing.isEmpty())
        return AdminResult{
            400, tr("Chain references non-existent providers: %1").arg(missing.join(QLatin1String(", "))),
            QString()};
    const auto it = std::find_if(next.chains.begin(), next.chains.end(),
                                 [&](const ChainConfig &c) { return c.name == chain.name; });
    const bool isNew = it == next.chains.end();
    if (isNew)
        next.chains.append(chain);
    else
        *it = chain;
    return commit(std::move(next), isNew ? tr("Chain \"%1\" added").arg(chain.name)
                                         : tr("Chain \"%1\" updated").arg(chain.name));
}

AdminResult ProxyService::deleteChain(const QString &name)
{
    Config next = *m_fileConfig;
    const auto it = std::find_if(next.chains.begin(), next.chains.end(),
                                 [&](const ChainConfig &c) { return c.name == name; });
    if (it == next.chains.end())
        return AdminResult{404, tr("Chain not found"), QString()};
    if (name == next.settings.defaultChain)
        return AdminResult{409, tr("Cannot delete default chain"), QString()};
    next.chains.erase(it);
    return commit(std::move(next), tr("Chain \"%1\" deleted").arg(name));
}

AdminResult ProxyService::renameChain(const QString &from, const QString &to)
{
    Config next = *m_fileConfig;
    const auto it = std::find_if(next.chains.begin(), next.chains.end(),
                                 [&](const ChainConfig &c) { return c.name == from; });
    if (it == next.chains.end())
        return AdminResult{404, tr("Chain not found"), QString()};
    if (to.trimmed().isEmpty())
        return AdminResult{400, tr("The new chain name must not be empty"), QString()};
    if (to == from)
        return AdminResult{200, QString(), tr("Chain \"%1\" unchanged").arg(from)};
    if (next.chain(to))
        return AdminResult{409, tr("A chain named \"%1\" already exists").arg(to), QString()};
    it->name = to;
    if (next.settings.defaultChain == from)
        next.settings.defaultChain = to;
    return commit(std::move(next), tr("Chain \"%1\" renamed to \"%2\"").arg(from, to));
}

AdminResult ProxyService::updateSettings(const Settings &settings)
{
    Config next = *m_fileConfig;
    next.settings = settings;
    // A form filled from config() echoes the running (maybe overridden) values: they do not go into the file.
    forEachRestartSetting([&](const ConfigKeys::SettingKey &k) {
        if (k.equal(settings, m_config->settings) && !k.equal(m_config->settings, m_fileConfig->settings))
            k.copy(m_fileConfig->settings, next.settings);
    });
    return commit(std::move(next), tr("Settings saved"));
}

AdminResult ProxyService::reloadFromDisk()
{
    const QString path = m_fileConfig->sourcePath;
    if (path.isEmpty())
        return AdminResult{409, tr("The running config was not loaded from a file"), QString()};
    const auto reject = [&](const QString &why) {
        qCWarning(lcConfigOps).noquote() << "config file" << path << "rejected, running config kept:" << why;
        EventLog::Event event;
        event.kind = QStringLiteral("config_rejected");
        event.level = QStringLiteral("error");
        event.message =
            tr("The edited config file %1 was rejected; the running config is kept: %2").arg(path, why);
        m_events.append(event);
        return AdminResult{400, why, QString()};
    };

    QFile file(path);
    if (!QFileInfo::exists(path))
        return reject(tr("Config file not found: %1").arg(path));
    if (!file.open(QIODevice::ReadOnly))
        return reject(tr("Cannot read config file %1: %2").arg(path, file.errorString()));
    const QByteArray content = file.readAll();
    const ConfigLoadResult loaded = ConfigLoader::loadString(content, path);
    for (const QString &warning : loaded.warnings)
        qCWarning(lcConfigOps).noquote() << warning;
    if (!loaded.ok())
        return reject(loaded.errors.join(QLatin1String("; ")));

    Config next = *loaded.config;
    next.sourcePath = path;
    m_fileHash = sha256(content);
    AdminResult result;
    result.message = tr("Config reloaded from %1").arg(path);
    const QString note = restartNote(m_fileConfig->settings, next.settings);
    if (!note.isEmpty())
        result.message += QLatin1String(". ") + note;
    forgetChangedProviders(m_tracker, *m_fileConfig, next);
    applyFileConfig(next);
    qCInfo(lcConfigOps).noquote() << result.message;
    m_events.append(QStringLiteral("config_reloaded"), QStringLiteral("info"), result.message);
    emit configChanged();
    return result;
}
