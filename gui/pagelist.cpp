#include "pagelist.h"
#include "chainspage.h"
#include "dashboardpage.h"
#include "logpage.h"
#include "providerspage.h"
#include "settingspage.h"
#include "testpromptpage.h"

#include <QCoreApplication>

// Each page adds its line here once it compiles.

QList<PageEntry> createPages(ServiceBridge *bridge, QWidget *parent)
{
    QList<PageEntry> pages;
    pages.append({QCoreApplication::translate("PageList", "Dashboard"),
                  QStringLiteral("utilities-system-monitor"), new DashboardPage(bridge, parent)});
    pages.append({QCoreApplication::translate("PageList", "Providers"), QStringLiteral("network-server"),
                  new ProvidersPage(bridge, parent)});
    pages.append({QCoreApplication::translate("PageList", "Chains"), QStringLiteral("view-list-details"),
                  new ChainsPage(bridge, parent)});
    pages.append({QCoreApplication::translate("PageList", "Test prompt"), QStringLiteral("mail-send"),
                  new TestPromptPage(bridge, parent)});
    pages.append({QCoreApplication::translate("PageList", "Log"), QStringLiteral("document-open-recent"),
                  new LogPage(bridge, parent)});
    pages.append({QCoreApplication::translate("PageList", "Settings"), QStringLiteral("preferences-system"),
                  new SettingsPage(bridge, parent)});
    return pages;
}
