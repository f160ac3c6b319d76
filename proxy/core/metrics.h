#pragma once

#include "requestrecord.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>

// Prometheus counters and histograms of the proxy's traffic, fed with every finished request (connect
// ProxyService::requestFinished to record()). Gauges that describe the present (requests in flight,
// cooldowns) are not kept here: the caller samples them at scrape time and passes them to prometheusText().
// Lives on the engine thread; GET /metrics renders it.
class Metrics : public QObject
{
    Q_OBJECT

public:
    // One provider+model pair as seen at scrape time.
    struct CooldownSample
    {
        QString provider;
        QString model;
        qint64 remainingMs = 0; // 0: not cooling down
    };

    struct Gauges
    {
        int requestsInFlight = 0;
        QList<CooldownSample> cooldowns;
        double uptimeSeconds = 0;
    };

    explicit Metrics(QObject *parent = nullptr);

    void record(const RequestRecord &record);
    // The whole exposition in the Prometheus text format 0.0.4.
    QByteArray prometheusText(const Gauges &gauges) const;

    // Upper bounds (seconds) of the histogram buckets; +Inf is implied.
    static const QList<double> &durationBuckets();
    static const QList<double> &firstTokenBuckets();
    // A label value with backslash, double quote and newline escaped as the format requires.
    static QByteArray escapeLabelValue(const QString &value);

    static constexpr const char *kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    struct Histogram
    {
        QList<quint64> counts; // per bucket, not cumulative
        double sum = 0;
        quint64 count = 0;
    };

    static void observe(Histogram &histogram, const QList<double> &bounds, double value);
    static void writeHistogram(QByteArray &out, const char *name, const QMap<QString, Histogram> &series,
                               const QList<double> &bounds);

    // Label values in the order of the family's label names.
    QMap<QStringList, quint64> m_requests;
    QMap<QStringList, quint64> m_attempts;
    QMap<QStringList, quint64> m_tokens;
    QMap<QString, Histogram> m_duration;   // by chain
    QMap<QString, Histogram> m_firstToken; // by chain
};
