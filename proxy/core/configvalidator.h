#pragma once

#include "config.h"

#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QStringList>

// One problem found in a config: where it is and what is wrong.
struct ConfigIssue
{
    QString path;    // key path, e.g. "providers[2].baseUrl"
    int line = 0;    // 1-based, 0 if unknown
    int column = 0;  // 1-based, 0 if unknown
    QString message; // what is wrong, without the path

    // "file:line:column: path: message"; parts that are unknown are left out.
    QString format(const QString &sourceName) const;
};

// The semantic rules of a config (ranges, references between providers and chains, duplicates, URLs, hosts).
// ConfigLoader runs it after reading YAML; admin writes and the GUI run it (through ConfigLoader::validate)
// before they save. The small predicates are shared with ConfigPaths for env and command-line values.
class ConfigValidator
{
    Q_DECLARE_TR_FUNCTIONS(ConfigValidator)

public:
    static QList<ConfigIssue> check(const Config &config);

    static QStringList logLevels(); // trace, debug, info, warn, error, fatal
    static bool isValidLogLevel(const QString &level);
    // An IPv4/IPv6 address or "localhost".
    static bool isValidHost(const QString &host);
    // "localhost" or a loopback address (127.0.0.0/8, ::1).
    static bool isLoopbackHost(const QString &host);
    // An entry of settings.allowedHosts: a host name, ".domain" (the domain and its subdomains) or an IP
    // address (IPv6 with or without brackets); no port, no scheme.
    static bool isValidHostPattern(const QString &pattern);
    // An absolute http:// or https:// URL with a host.
    static bool isValidHttpUrl(const QString &url);
};
