#include "displayformat.h"

#include <QDateTime>
#include <QLocale>

QString DisplayFormat::integer(qint64 value)
{
    return QLocale().toString(value);
}

QString DisplayFormat::duration(qint64 ms)
{
    if (ms < 0)
        return placeholder();
    if (ms < 1000)
        return tr("%1 ms").arg(ms);
    if (ms < 60000)
        return tr("%1 s").arg(QLocale().toString(ms / 1000.0, 'f', ms < 10000 ? 2 : 1));
    return countdown(ms);
}

QString DisplayFormat::countdown(qint64 ms)
{
    const qint64 s = ms <= 0 ? 0 : (ms + 999) / 1000;
    if (s < 60)
        return tr("%1 s").arg(s);
    const qint64 m = s / 60;
    if (m < 60)
        return tr("%1 m %2 s").arg(m).arg(s % 60, 2, 10, QLatin1Char('0'));
    const qint64 h = m / 60;
    if (h < 48)
        return tr("%1 h %2 m").arg(h).arg(m % 60, 2, 10, QLatin1Char('0'));
    return tr("%1 d %2 h").arg(h / 24).arg(h % 24);
}

QString DisplayFormat::percent(qint64 part, qint64 whole)
{
    if (whole <= 0)
        return placeholder();
    return tr("%1 %").arg(QLocale().toString(100.0 * double(part) / double(whole), 'f', 1));
}

QString DisplayFormat::time(qint64 epochMs)
{
    if (epochMs <= 0)
        return placeholder();
    const QDateTime when = QDateTime::fromMSecsSinceEpoch(epochMs);
    const QLocale locale;
    if (when.date() == QDate::currentDate())
        return locale.toString(when.time(), QStringLiteral("HH:mm:ss"));
    return locale.toString(when, QStringLiteral("d MMM HH:mm"));
}

QString DisplayFormat::dateTime(qint64 epochMs)
{
    if (epochMs <= 0)
        return placeholder();
    return QLocale().toString(QDateTime::fromMSecsSinceEpoch(epochMs), QLocale::LongFormat);
}

QString DisplayFormat::entry(const QString &provider, const QString &model)
{
    if (provider.isEmpty())
        return tr("none");
    if (model.isEmpty())
        return provider;
    return tr("%1 / %2").arg(provider, model);
}

QString DisplayFormat::status(int httpStatus)
{
    if (httpStatus <= 0)
        return placeholder();
    if (httpStatus < 300)
        return tr("%1 served").arg(httpStatus);
    if (httpStatus == 429)
        return tr("%1 exhausted").arg(httpStatus);
    if (httpStatus == 499)
        return tr("%1 client left").arg(httpStatus);
    if (httpStatus < 500)
        return tr("%1 refused").arg(httpStatus);
    return tr("%1 failed").arg(httpStatus);
}

QString DisplayFormat::outcome(AttemptRecord::Outcome outcome)
{
    switch (outcome) {
    case AttemptRecord::Outcome::Success:
        return tr("served");
    case AttemptRecord::Outcome::Skipped:
        return tr("skipped");
    case AttemptRecord::Outcome::RateLimited:
        return tr("rate limited");
    case AttemptRecord::Outcome::ClientError:
        return tr("client error");
    case AttemptRecord::Outcome::ServerError:
        return tr("server error");
    case AttemptRecord::Outcome::Timeout:
        return tr("timed out");
    case AttemptRecord::Outcome::NetworkError:
        return tr("network error");
    case AttemptRecord::Outcome::StreamError:
        return tr("stream broke off");
    }
    return placeholder();
}

QString DisplayFormat::tokens(const RequestRecord &record)
{
    if (record.tokensEstimated)
        return tr("≈%1").arg(integer(record.totalTokens)); // estimated: the provider sent no usage
    return integer(record.totalTokens);
}

QColor DisplayFormat::statusColor(int httpStatus)
{
    if (httpStatus > 0 && httpStatus < 300)
        return QColor(0x1b, 0x7f, 0x3b);
    if (httpStatus == 429 || httpStatus == 499)
        return QColor(0xa3, 0x5b, 0x00);
    if (httpStatus >= 400)
        return QColor(0xb3, 0x26, 0x1e);
    return {};
}
