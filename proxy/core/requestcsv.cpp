#include "requestcsv.h"

#include <QDateTime>
#include <QSaveFile>
#include <QStringList>
#include <QThread>

QString RequestCsv::header()
{
    return QStringLiteral(
        "id,time_utc,chain,provider,model,status,attempts,prompt_tokens,completion_tokens,"
        "total_tokens,tokens_estimated,latency_ms,first_token_ms,stream,client_key,error,replica");
}

QString RequestCsv::cell(const QString &text)
{
    QString out = text;
    if (!out.isEmpty() && QStringLiteral("=+-@\t\r").contains(out.front()))
        out.prepend(QLatin1Char('\''));
    if (out.contains(QLatin1Char(',')) || out.contains(QLatin1Char('"')) || out.contains(QLatin1Char('\n')) ||
        out.contains(QLatin1Char('\r'))) {
        out.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        out = QLatin1Char('"') + out + QLatin1Char('"');
    }
    return out;
}

QString RequestCsv::row(const StoredRequest &request)
{
    const RequestRecord &r = request.record;
    const QStringList fields{
        QString::number(request.id),
        QDateTime::fromMSecsSinceEpoch(r.startedAtMs, Qt::UTC).toString(Qt::ISODateWithMs),
        cell(r.chain),
        cell(r.provider),
        cell(r.model),
        QString::number(r.status),
        QString::number(request.attemptCount),
        QString::number(r.promptTokens),
        QString::number(r.completionTokens),
        QString::number(r.totalTokens),
        r.tokensEstimated ? QStringLiteral("true") : QStringLiteral("false"),
        QString::number(r.latencyMs),
        r.firstTokenMs >= 0 ? QString::number(r.firstTokenMs) : QString(),
        r.stream ? QStringLiteral("true") : QStringLiteral("false"),
        cell(r.clientKeyLabel),
        cell(r.error),
        cell(r.replica), // several replicas on one database: which one served it
    };
    return fields.join(QLatin1Char(','));
}

bool RequestCsv::writeRows(StatsSource &stats, RequestQuery filter, QIODevice &out, qint64 *rows)
{
    const QByteArray crlf("\r\n");
    out.write(header().toUtf8() + crlf);
    filter.limit = kPageSize;
    filter.offset = 0;
    filter.beforeId = 0;
    for (;;) {
        if (QThread::currentThread()->isInterruptionRequested())
            return false;
        const QList<StoredRequest> page = stats.requests(filter);
        for (const StoredRequest &request : page)
            out.write(row(request).toUtf8() + crlf);
        *rows += page.size();
        if (page.size() < kPageSize || page.last().id <= 1)
            return true;
        filter.beforeId = page.last().id;
    }
}

RequestCsv::Result RequestCsv::write(StatsSource &stats, const RequestQuery &filter, const QString &path)
{
    Result result;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        result.error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return result;
    }
    if (!writeRows(stats, filter, file, &result.rows)) {
        file.cancelWriting();
        result.error = tr("The export to %1 was cancelled: 429chain is closing.").arg(path);
        return result;
    }
    if (!file.commit()) {
        result.error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return result;
    }
    result.ok = true;
    return result;
}
