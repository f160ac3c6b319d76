#include "pagelist.h"

#include <QCoreApplication>

// Each page adds its line here once it compiles.

QList<PageEntry> createPages(ServiceBridge *bridge, QWidget *parent)
{
    Q_UNUSED(bridge);
    Q_UNUSED(parent);
    QList<PageEntry> pages;
    return pages;
}
