#include "proxyharness.h"

ProxyHarness::~ProxyHarness()
{
    m_server.reset();
    m_service.reset();
}

void ProxyHarness::addProvider(const QString &id, SimulatedProvider *sim, const QString &type)
{
    ProviderConfig p;
    p.id = id;
    p.name = id;
    p.type = type;
    p.apiKey = QStringLiteral("sk-upstream-") + id;
    p.baseUrl = sim->baseUrl();
    sim->setClock(&m_clock); // the sim's reset times and the tracker read the same time
    m_config.providers.append(p);
}

void ProxyHarness::addChain(const QString &name, const QStringList &entries)
{
    ChainConfig chain;
    chain.name = name;
    for (const auto &e : entries) {
        const qsizetype slash = e.indexOf(QLatin1Char('/'));
        chain.entries.append({e.left(slash), e.mid(slash + 1), 0, std::nullopt});
    }
    m_config.chains.append(chain);
    if (m_config.settings.defaultChain.isEmpty())
        m_config.settings.defaultChain = name;
}

bool ProxyHarness::start()
{
    if (m_config.settings.apiKeys.isEmpty())
        m_config.settings.apiKeys = {QString::fromLatin1(kApiKey)};
    m_service = std::make_unique<ProxyService>(m_config, m_clock);
    connect(m_service.get(), &ProxyService::requestFinished, this,
            [this](const RequestRecord &r) { records.append(r); });
    m_server = std::make_unique<ApiServer>(*m_service);
    m_server->setConnectionLimits(limits);
    QString error;
    if (!m_server->listen(QHostAddress::LocalHost, 0, &error)) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    return true;
}

QString ProxyHarness::url(const QString &path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path);
}
