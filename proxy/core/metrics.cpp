#include "metrics.h"

namespace {

QByteArray number(double value)
{
    return QByteArray::number(value, 'g', 15);
}

void writeHeader(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// `name{a="x",b="y"} value`; no braces without labels.
void writeSample(QByteArray &out, const QByteArray &name, const QList<const char *> &labelNames,
                 const QStringList &labelValues, const QByteArray &value)
{
    out += name;
    if (!labelNames.isEmpty()) {
        out += '{';
        for (qsizetype i = 0; i < labelNames.size(); ++i) {
            if (i > 0)
                out += ',';
            out += labelNames.at(i);
            out += "=\"";
            out += Metrics::escapeLabelValue(labelValues.value(i));
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

void writeCounter(QByteArray &out, const char *name, const char *help, const QList<const char *> &labelNames,
                  const QMap<QStringList, quint64> &series)
{
    writeHeader(out, name, "counter", help);
    for (auto it = series.cbegin(); it != series.cend(); ++it)
        writeSample(out, name, labelNames, it.key(), QByteArray::number(it.value()));
}

} // namespace

Metrics::Metrics(QObject *parent) : QObject(parent) {}

const QList<double> &Metrics::durationBuckets()
{
    static const QList<double> buckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    return buckets;
}

const QList<double> &Metrics::firstTokenBuckets()
{
    static const QList<double> buckets{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30};
    return buckets;
}

QByteArray Metrics::escapeLabelValue(const QString &value)
{
    QByteArray out;
    const QByteArray utf8 = value.toUtf8();
    out.reserve(utf8.size());
    for (const char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void Metrics::observe(Histogram &histogram, const QList<double> &bounds, double value)
{
    if (histogram.counts.isEmpty())
        histogram.counts.fill(0, bounds.size());
    for (qsizetype i = 0; i < bounds.size(); ++i) {
        if (value <= bounds.at(i)) {
            ++histogram.counts[i];
            break;
        }
    }
    histogram.sum += value;
    ++histogram.count;
}

void Metrics::record(const RequestRecord &record)
{
    ++m_requests[{record.chain, record.provider, QString::number(record.status)}];
    for (const AttemptRecord &attempt : record.attempts)
        ++m_attempts[{attempt.provider, attempt.model, AttemptRecord::outcomeName(attempt.outcome)}];
    if (record.promptTokens > 0)
        m_tokens[{record.provider, record.model, QStringLiteral("prompt")}] += quint64(record.promptTokens);
    if (record.completionTokens > 0)
        m_tokens[{record.provider, record.model, QStringLiteral("completion")}] +=
            quint64(record.completionTokens);
    observe(m_duration[record.chain], durationBuckets(), double(qMax<qint64>(record.latencyMs, 0)) / 1000.0);
    if (record.stream && record.firstTokenMs >= 0)
        observe(m_firstToken[record.chain], firstTokenBuckets(), double(record.firstTokenMs) / 1000.0);
}

void Metrics::writeHistogram(QByteArray &out, const char *name, const QMap<QString, Histogram> &series,
                             const QList<double> &bounds)
{
    const QByteArray base(name);
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        const Histogram &h = it.value();
        quint64 cumulative = 0;
        for (qsizetype i = 0; i < bounds.size(); ++i) {
            cumulative += h.counts.value(i);
            writeSample(out, base + "_bucket", {"chain", "le"},
                        {it.key(), QString::fromLatin1(number(bounds.at(i)))},
                        QByteArray::number(cumulative));
        }
        writeSample(out, base + "_bucket", {"chain", "le"}, {it.key(), QStringLiteral("+Inf")},
                    QByteArray::number(h.count));
        writeSample(out, base + "_sum", {"chain"}, {it.key()}, number(h.sum));
        writeSample(out, base + "_count", {"chain"}, {it.key()}, QByteArray::number(h.count));
    }
}

QByteArray Metrics::prometheusText(const Gauges &gauges) const
{
    QByteArray out;
    writeCounter(
        out, "chain_requests_total",
        "Client requests answered, by chain, the provider that served (or was tried last) and HTTP status.",
        {"chain", "provider", "status"}, m_requests);
    writeCounter(out, "chain_attempts_total",
                 "Upstream attempts by provider, model and outcome (skipped included).",
                 {"provider", "model", "outcome"}, m_attempts);
    writeCounter(out, "chain_tokens_total", "Tokens used by provider, model and kind (prompt or completion).",
                 {"provider", "model", "kind"}, m_tokens);

    writeHeader(out, "chain_request_duration_seconds", "histogram",
                "Time from request to the end of the answer.");
    writeHistogram(out, "chain_request_duration_seconds", m_duration, durationBuckets());
    writeHeader(out, "chain_time_to_first_token_seconds", "histogram",
                "Streams: time from request to the first relayed content.");
    writeHistogram(out, "chain_time_to_first_token_seconds", m_firstToken, firstTokenBuckets());

    writeHeader(out, "chain_requests_in_flight", "gauge", "Client requests being served right now.");
    writeSample(out, "chain_requests_in_flight", {}, {}, QByteArray::number(gauges.requestsInFlight));

    writeHeader(out, "chain_cooldown_active", "gauge",
                "1 while a provider+model pair is cooling down, else 0.");
    for (const CooldownSample &c : gauges.cooldowns) {
        writeSample(out, "chain_cooldown_active", {"provider", "model"}, {c.provider, c.model},
                    c.remainingMs > 0 ? QByteArrayLiteral("1") : QByteArrayLiteral("0"));
    }
    writeHeader(out, "chain_cooldown_remaining_seconds", "gauge",
                "Seconds until a pair's cooldown ends (0: none).");
    for (const CooldownSample &c : gauges.cooldowns) {
        writeSample(out, "chain_cooldown_remaining_seconds", {"provider", "model"}, {c.provider, c.model},
                    number(double(qMax<qint64>(c.remainingMs, 0)) / 1000.0));
    }

    writeHeader(out, "chain_up", "gauge", "1 while the proxy is serving.");
    writeSample(out, "chain_up", {}, {}, QByteArrayLiteral("1"));
    writeHeader(out, "chain_uptime_seconds", "gauge", "Seconds since the proxy started.");
    writeSample(out, "chain_uptime_seconds", {}, {}, number(gauges.uptimeSeconds));
    return out;
}
