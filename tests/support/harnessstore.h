#pragma once

#include "proxyharness.h"
#include "requeststore.h"

#include <QString>
#include <QTemporaryDir>

#include <memory>

// A RequestStore in a temporary directory attached to a started ProxyHarness, as the app wires it: it is the
// service's StatsSource and records every finished request. flush() makes what was recorded readable.
class HarnessStore
{
public:
    explicit HarnessStore(ProxyHarness &harness);
    ~HarnessStore();

    bool open(); // after harness.start()
    void flush() { m_store->flush(); }
    RequestStore &store() { return *m_store; }
    QString path() const { return m_dir.filePath(QStringLiteral("observability.db")); }

private:
    ProxyHarness &m_harness;
    QTemporaryDir m_dir;
    std::unique_ptr<RequestStore> m_store;
};
