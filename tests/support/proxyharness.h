#pragma once

#include "apiserver.h"
#include "clock.h"
#include "config.h"
#include "proxyservice.h"
#include "simulatedprovider.h"

#include <QList>
#include <QPointer>
#include <QString>

#include <memory>

// A running proxy for integration tests: ProxyService + ApiServer on 127.0.0.1, port 0, with a manual clock,
// over a config built from simulated providers. Every request it finished is kept in `records`.
class ProxyHarness : public QObject
{
    Q_OBJECT

public:
    static constexpr const char *kApiKey = "test-key";

    ProxyHarness() = default;
    ~ProxyHarness() override;

    // Adds a provider of `type` served by `sim` (not owned).
    void addProvider(const QString &id, SimulatedProvider *sim, const QString &type = QStringLiteral("groq"));
    // Adds a chain; entries as "provider/model" strings split at the first '/'.
    void addChain(const QString &name, const QStringList &entries);
    Config &config() { return m_config; }

    bool start(); // validates nothing: tests build configs by hand
    quint16 port() const { return m_server ? m_server->port() : 0; }
    QString url(const QString &path) const;
    ProxyService &service() { return *m_service; }
    ApiServer &server() { return *m_server; }
    ConnectionGuard::Limits limits; // applied by start()
    ManualClock &clock() { return m_clock; }

    QList<RequestRecord> records;

private:
    Config m_config;
    ManualClock m_clock;
    std::unique_ptr<ProxyService> m_service;
    std::unique_ptr<ApiServer> m_server;
};
