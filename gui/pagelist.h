#pragma once

#include <QList>
#include <QString>

class QWidget;
class ServiceBridge;

// The main window's pages in navigation order (Dashboard, Providers, Chains, Test prompt, Log, Settings).
struct PageEntry
{
    QString title;    // translated, for the navigation list
    QString iconName; // freedesktop icon theme name, may be missing on a desktop
    QWidget *widget = nullptr;
};

QList<PageEntry> createPages(ServiceBridge *bridge, QWidget *parent);
