#pragma once

#include "config.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <optional>

class QNetworkAccessManager;
class QNetworkReply;
class UpstreamPool;

// "Fetch models": asks a provider's `<baseUrl>/models` with its key and lists the model ids with what the
// provider says about them: the context length (OpenRouter context_length, Groq context_window, Mistral
// max_context_length) and, where prices are given (OpenRouter), whether the model is free. Used by
// GET /v1/admin/providers/:id/models and the GUI's provider page. Deleted by its owner after finished().
class ProviderModels : public QObject
{
    Q_OBJECT

public:
    struct Model
    {
        QString id;
        std::optional<qint64> contextLength;
        std::optional<bool> free; // unknown where the provider publishes no prices
    };

    ProviderModels(const ProviderConfig &provider, qint64 timeoutMs, UpstreamPool &pool,
                   QObject *parent = nullptr);
    ~ProviderModels() override;

    void start();

    bool ok() const { return m_error.isEmpty(); }
    int upstreamStatus() const { return m_status; } // 0 when no HTTP answer came
    QString errorString() const { return m_error; }
    const QList<Model> &models() const { return m_models; }

    // The model list of a /models answer ({"data":[…]}, {"models":[…]} or a bare list); nullopt if none.
    static std::optional<QList<Model>> parse(const QByteArray &body);

signals:
    void finished();

private:
    void onFinished();
    void onTimeout();
    void release();

    ProviderConfig m_provider;
    qint64 m_timeoutMs;
    UpstreamPool &m_pool;
    QString m_hostKey;
    QNetworkAccessManager *m_manager = nullptr;
    QPointer<QNetworkReply> m_reply;
    QTimer m_timer;
    bool m_timedOut = false;
    int m_status = 0;
    QString m_error;
    QList<Model> m_models;
};
