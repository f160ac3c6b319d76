#include "configtransfer.h"

#include "clock.h"
#include "requeststore.h"

#include <QFile>
#include <QSaveFile>

#include <cstdio>
#include <memory>

namespace {

void say(const QString &text, FILE *to = stdout)
{
    std::fputs(qPrintable(text + QLatin1Char('\n')), to);
}

// The shared store, open and reachable; null (and said why) otherwise.
std::unique_ptr<RequestStore> openShared(const Config &config, const Clock &clock)
{
    RequestStore::Options options;
    options.path = config.settings.dbPath;
    options.storage = config.settings.storage;
    options.replica = QStringLiteral("429chain --import-config");
    auto store = std::make_unique<RequestStore>(options, clock);
    if (!store->isShared()) {
        say(QStringLiteral("Error: the config is shared only through PostgreSQL: set settings.storage, "
                           "CHAIN_DATABASE_URL or DATABASE_URL to a postgresql:// URL"),
            stderr);
        return nullptr;
    }
    QString error;
    if (!store->open(&error)) {
        say(QStringLiteral("Error: %1").arg(error), stderr);
        return nullptr;
    }
    const StorageStatus status = store->storageStatus();
    if (!status.available) {
        say(QStringLiteral("Error: %1 is unavailable: %2").arg(status.location, status.reason), stderr);
        return nullptr;
    }
    return store;
}

} // namespace

int ConfigTransfer::exportTo(const Config &config, const QString &path)
{
    SystemClock clock;
    const auto store = openShared(config, clock);
    if (!store)
        return 1;
    const std::optional<QByteArray> yaml = store->loadSharedConfig();
    if (!yaml) {
        say(QStringLiteral("Error: %1 holds no config yet (the first replica stores its file there)")
                .arg(store->storageStatus().location),
            stderr);
        return 1;
    }
    if (path == QLatin1String("-")) {
        std::fwrite(yaml->constData(), 1, size_t(yaml->size()), stdout);
        return 0;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(*yaml) != yaml->size() || !file.commit()) {
        say(QStringLiteral("Error: cannot write %1: %2").arg(path, file.errorString()), stderr);
        return 1;
    }
    say(QStringLiteral("exported the shared config of %1 to %2").arg(store->storageStatus().location, path));
    return 0;
}

int ConfigTransfer::importFrom(const Config &config, const QString &path, const ConfigLoader::EnvLookup &env)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        say(QStringLiteral("Error: cannot read %1: %2").arg(path, file.errorString()), stderr);
        return 1;
    }
    const QByteArray yaml = file.readAll();
    const ConfigLoadResult loaded = ConfigLoader::loadString(yaml, path, env);
    if (!loaded.ok()) {
        for (const QString &e : loaded.errors)
            say(QStringLiteral("error: %1").arg(e), stderr);
        return 1;
    }
    SystemClock clock;
    const auto store = openShared(config, clock);
    if (!store)
        return 1;
    store->saveSharedConfig(yaml);
    store->flush();
    if (store->loadSharedConfig() != yaml) {
        say(QStringLiteral("Error: the config could not be stored (see the log above)"), stderr);
        return 1;
    }
    say(QStringLiteral("imported %1 into %2: the running replicas apply it now")
            .arg(path, store->storageStatus().location));
    return 0;
}
