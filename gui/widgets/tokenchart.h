#pragma once

#include "statssource.h"

#include <QHash>
#include <QList>
#include <QStringList>
#include <QWidget>

// Tokens over time as stacked bars, one colour per provider, with value and time axes and a legend that names
// every provider in text (colour is never the only cue: the tooltip of a bar lists its providers too). Fed
// with StatsSource::timeseries() points and then live with addTokens(), so the dashboard never has to ask the
// database again to move a bar. Drawn with QPainter: no chart library.
class TokenChart : public QWidget
{
    Q_OBJECT

public:
    enum class Bucket { Hour, Day };

    explicit TokenChart(QWidget *parent = nullptr);

    // Buckets from the one holding `sinceMs` up to the one holding `nowMs`.
    void setSeries(const QList<TimeseriesPoint> &points, Bucket bucket, qint64 sinceMs, qint64 nowMs);
    // A request just finished: its tokens join the bucket of `atMs` (new buckets scroll in at the right).
    void addTokens(qint64 atMs, const QString &provider, qint64 tokens);

    Bucket bucket() const { return m_bucket; }
    int bucketCount() const { return int(m_buckets.size()); }
    qint64 totalTokens() const;
    QStringList providers() const { return m_providers; } // in legend (and colour) order
    QString summary() const; // the chart in one sentence, also its accessible description

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Slot
    {
        qint64 startMs = 0;
        QHash<QString, qint64> tokens;
        qint64 total = 0;
    };
    struct Geometry
    {
        QRectF plot;
        qreal slotWidth = 0;
        qreal barWidth = 0;
        qreal legendTop = 0;
    };

    qint64 stepMs() const;
    qint64 floorToStep(qint64 ms) const;
    void addToSlot(Slot &slot, const QString &provider, qint64 tokens);
    QColor colorFor(const QString &provider) const;
    QString bucketLabel(qint64 startMs) const;
    QString emptyText() const;
    int legendHeight(int width) const;
    Geometry geometry() const;
    void updateDescription();

    Bucket m_bucket = Bucket::Hour;
    QList<Slot> m_buckets;
    QStringList m_providers;
};
