#pragma once

#include "config.h"
#include "upstreamcall.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QUrl>

// What differs between provider types: default base URL, extra headers, and the body quirks the reference
// applies (Cerebras drops penalties; google-ai merges system messages for non-gemini models). One table, used
// by the config validator, the upstream request builder and the UIs.
class ProviderKind
{
public:
    static QStringList knownTypes();
    static bool isKnownType(const QString &type);
    // Empty for generic-openai (its baseUrl is required).
    static QString defaultBaseUrl(const QString &type);
    static bool requiresBaseUrl(const QString &type) { return defaultBaseUrl(type).isEmpty(); }
    // The type's name for people ("Google AI (Gemini)"), translated; the type itself when unknown.
    static QString label(const QString &type);
    // Every type for the admin API's schema: [{type, label, baseUrl, requiresBaseUrl}], in knownTypes()
    // order, labelled in English (as the web UI is).
    static QJsonArray typesJson();
    static QList<QPair<QByteArray, QByteArray>> extraHeaders(const QString &type);
    // `path` ("/chat/completions", "/models") on the provider's base URL (its own or its type's default).
    static QUrl endpoint(const ProviderConfig &provider, const QString &path);
    // What every request to the provider carries: its key as a Bearer token, the type's and its own extra
    // headers.
    static QList<QPair<QByteArray, QByteArray>> requestHeaders(const ProviderConfig &provider);
    // The one place an outgoing request is made: `path` on the provider's base URL, its headers, `body`
    // (JSON) and the provider's timeout (else `defaultTimeoutMs`).
    static UpstreamCall::Request upstreamRequest(const ProviderConfig &provider, const QString &path,
                                                 const QJsonObject &body, qint64 defaultTimeoutMs);
    // The most output tokens an answer of this type's free tier is asked for (0: no limit); a chain entry's
    // maxOutputTokens overrides it.
    static int defaultMaxOutputTokens(const QString &type);
    // Rewrites a client body for this provider and model, in place: what the type refuses goes (tool schemas'
    // `$schema`, and for google-ai the JSON Schema keywords Gemini does not take). `model` is set by the
    // caller.
    static void adaptBody(const QString &type, const QString &model, QJsonObject &body);
};
