#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

// What differs between provider types: default base URL, extra headers, and the body quirks the reference
// applies (Cerebras drops penalties; google-ai merges system messages for non-gemini models). One table, used by
// the config validator, the upstream request builder and the UIs.
class ProviderKind
{
public:
    static QStringList knownTypes();
    static bool isKnownType(const QString &type);
    // Empty for generic-openai (its baseUrl is required).
    static QString defaultBaseUrl(const QString &type);
    static bool requiresBaseUrl(const QString &type) { return defaultBaseUrl(type).isEmpty(); }
    static QList<QPair<QByteArray, QByteArray>> extraHeaders(const QString &type);
    // Rewrites a client body for this provider and model, in place. `model` is set by the caller.
    static void adaptBody(const QString &type, const QString &model, QJsonObject &body);
};
