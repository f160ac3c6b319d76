#pragma once

#include "config.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QTemporaryDir>

class SimulatedProvider;

// What `429chain --demo` runs: three simulated free-tier providers on loopback (groq-demo, openrouter-demo,
// cerebras-demo) with small request limits and paced streams, and a Config whose chains point at them, so a
// newcomer sees waterfalls happen without any account. Tests use it to exercise the whole app end to end.
class DemoEnvironment : public QObject
{
    Q_OBJECT

public:
    explicit DemoEnvironment(QObject *parent = nullptr);
    ~DemoEnvironment() override;

    // Starts the providers on free loopback ports; false (with a reason) if one cannot listen.
    bool start(QString *error = nullptr);

    // A complete config for the proxy on host:port, with chains "default" (groq-demo -> openrouter-demo ->
    // cerebras-demo) and "fast" (cerebras-demo -> groq-demo). Call after start().
    Config config(int port, const QString &host = QStringLiteral("127.0.0.1")) const;

    // The client API key of the demo config.
    static QString apiKey();

    // The simulated provider behind a demo provider id, or null.
    SimulatedProvider *provider(const QString &id) const;
    QList<SimulatedProvider *> providers() const;

private:
    struct Entry
    {
        QString id;
        QString name;
        QString type;
        QString model;
        QString upstreamKey;
        SimulatedProvider *provider = nullptr;
    };

    QList<Entry> m_entries;
    bool m_started = false;
    QTemporaryDir m_dataDir; // the demo request log lives as long as the demo
};
