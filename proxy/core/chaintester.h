#pragma once

#include "config.h"
#include "upstreamcall.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>

class UpstreamPool;

// "Test whole chain": sends one small non-streaming prompt (max_tokens 50) to every entry of a chain in turn
// and reports each answer or failure. As in the reference it is not a waterfall and ignores the limiter:
// entries in cooldown are asked too, and nothing is recorded or learned. Used by POST /v1/test/chain/:name
// and the GUI's test page. Deletes nothing by itself: the owner deletes it after finished().
class ChainTester : public QObject
{
    Q_OBJECT

public:
    struct Result
    {
        QString provider;
        QString model;
        bool ok = false;
        qint64 latencyMs = 0;
        QString response; // content (or reasoning_content), at most 200 characters + "..."
        qint64 promptTokens = 0;
        qint64 completionTokens = 0;
        qint64 totalTokens = 0;
        QJsonObject raw; // the provider's whole answer
        QString error;   // when !ok
    };

    static constexpr int kMaxTokens = 50;
    static constexpr int kResponseChars = 200;
    static QString defaultPrompt() { return QStringLiteral("Say hello in one word."); }

    ChainTester(std::shared_ptr<const Config> config, const ChainConfig &chain, QString prompt,
                UpstreamPool &pool, QObject *parent = nullptr);
    ~ChainTester() override;

    void start();
    const QList<Result> &results() const { return m_results; }

    // The text of an answer for display: truncated to kResponseChars with "..." appended.
    static QString shorten(const QString &text);
    // The message of an upstream error body (OpenAI-style error.message, or the raw text), for one line.
    static QString errorMessage(const QByteArray &body);

signals:
    void finished();

private:
    void next();
    void onCallFinished(UpstreamCall::Failure failure, const QString &errorString);
    UpstreamCall::Request buildRequest(const ProviderConfig &provider, const ChainEntry &entry) const;

    std::shared_ptr<const Config> m_config;
    ChainConfig m_chain;
    QString m_prompt;
    UpstreamPool &m_pool;
    int m_next = 0;
    UpstreamCall *m_call = nullptr;
    QElapsedTimer m_timer;
    QList<Result> m_results;
};
