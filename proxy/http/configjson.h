#pragma once

#include "config.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

#include <optional>

// The admin API's JSON form of the config model, both ways: providers, chains and settings as the reference's
// keys plus ours, with every secret masked on the way out (apiKey, apiKeys, adminKeys, extra header values)
// and checked on the way in (types, unknown keys, the masked values a client sends back). Shape errors name
// the JSON key; semantic rules (ranges, references, URLs) are ProxyService's, which runs the config
// validator.
class ConfigJson
{
    Q_DECLARE_TR_FUNCTIONS(ConfigJson)

public:
    // What every secret reads as; a client that sends it back keeps the stored value.
    static QString maskValue() { return QStringLiteral("***"); }

    static QJsonObject providerToJson(const ProviderConfig &provider);
    static QJsonObject chainToJson(const ChainConfig &chain);
    static QJsonObject settingsToJson(const Settings &settings);
    // {"providers":[…],"chains":[…],"settings":{…}}, masked.
    static QJsonObject configToJson(const Config &config);

    // GET /v1/admin/schema: {"settings": the config key table, "providerTypes": the provider types}, so the
    // web UI builds its forms from the core's tables instead of copying them.
    static QJsonObject schemaJson();

    struct ProviderInput
    {
        ProviderConfig provider;
        bool keepExistingKey = false; // apiKey absent or masked (provider.apiKey is then empty)
    };

    // A provider object as PUT /v1/admin/providers/:id takes it. `existing` (the stored provider of that id,
    // if any) gives the values of masked header values back.
    static std::optional<ProviderInput> providerFromJson(const QJsonObject &json,
                                                         const ProviderConfig *existing, QString *error);
    // {"entries":[{provider, model}, …]} (and an optional "name" that must equal `name`).
    static std::optional<ChainConfig> chainFromJson(const QString &name, const QJsonObject &json,
                                                    QString *error);
    // Keys present replace those of `current`; keys left out keep their value. Masked entries of apiKeys and
    // adminKeys keep the stored key at the same index.
    static std::optional<Settings> settingsFromJson(const QJsonObject &json, const Settings &current,
                                                    QString *error);
};
