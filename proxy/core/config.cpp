#include "config.h"

#include <QRegularExpression>

const ProviderConfig *Config::provider(const QString &id) const
{
    for (const auto &p : providers) {
        if (p.id == id)
            return &p;
    }
    return nullptr;
}

const ChainConfig *Config::chain(const QString &name) const
{
    for (const auto &c : chains) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

const ChainConfig *Config::chainForModel(const QString &model) const
{
    if (const auto *c = chain(model))
        return c;
    for (const auto &[pattern, chainName] : settings.modelAliases) {
        const QRegularExpression glob(QRegularExpression::wildcardToRegularExpression(pattern),
                                      QRegularExpression::CaseInsensitiveOption);
        if (glob.match(model).hasMatch()) {
            if (const auto *c = chain(chainName))
                return c;
        }
    }
    return chain(settings.defaultChain);
}
