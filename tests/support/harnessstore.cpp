#include "harnessstore.h"

HarnessStore::HarnessStore(ProxyHarness &harness) : m_harness(harness)
{
    RequestStore::Options options;
    options.path = path();
    options.flushIntervalMs = 10;
    m_store = std::make_unique<RequestStore>(options, harness.clock());
}

HarnessStore::~HarnessStore()
{
    if (m_store->isOpen())
        m_harness.service().setStatsSource(nullptr);
}

bool HarnessStore::open()
{
    QString error;
    if (!m_store->open(&error)) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    m_harness.service().setStatsSource(m_store.get());
    QObject::connect(&m_harness.service(), &ProxyService::requestFinished, m_store.get(),
                     [store = m_store.get()](const RequestRecord &record) { store->record(record); });
    return true;
}
