// Fuzzes the YAML config loader: any bytes give a config or messages, never a crash or an exception. A config
// that loads is written back as YAML (what admin writes do) and must load again to the same settings.

#include "configloader.h"
#include "configwriter.h"
#include "fuzzcheck.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char *>(data), qsizetype(size));
    // A fixed environment: ${FUZZ} is set, everything else is unset.
    const ConfigLoader::EnvLookup env = [](const QString &name) -> std::optional<QString> {
        if (name == QLatin1String("FUZZ"))
            return QStringLiteral("value");
        return std::nullopt;
    };
    const ConfigLoadResult result = ConfigLoader::loadString(yaml, QStringLiteral("fuzz.yaml"), env);
    FUZZ_CHECK(result.ok() || !result.errors.isEmpty());
    if (!result.ok())
        return 0;
    const QByteArray written = ConfigWriter::toYaml(*result.config);
    const ConfigLoadResult again = ConfigLoader::loadString(written, QStringLiteral("written.yaml"), env);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.config->providers.size() == result.config->providers.size());
    FUZZ_CHECK(again.config->chains.size() == result.config->chains.size());
    FUZZ_CHECK(again.config->settings.apiKeys == result.config->settings.apiKeys);
    FUZZ_CHECK(again.config->settings.defaultChain == result.config->settings.defaultChain);
    return 0;
}
