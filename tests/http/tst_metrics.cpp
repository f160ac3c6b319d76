// Metrics: the Prometheus exposition (unit) and GET /metrics over loopback (integration). A small parser
// checks the text format: every sample `name{labels} value`, HELP and TYPE for every family, label escaping,
// histogram buckets cumulative with +Inf equal to _count.

#include "apiserver.h"
#include "httpclient.h"
#include "metrics.h"
#include "proxyharness.h"
#include "simulatedprovider.h"

#include <QHash>
#include <QMap>
#include <QRegularExpression>
#include <QtTest>

#include <cmath>

using Step = SimulatedProvider::Step;

namespace {

struct Sample
{
    QString name;
    QMap<QString, QString> labels;
    double value = 0;
};

// A parsed exposition; `errors` lists every way the text breaks the format.
struct Exposition
{
    QHash<QString, QString> types; // family -> counter|gauge|histogram|summary|untyped
    QHash<QString, QString> help;
    QList<Sample> samples;
    QStringList errors;

    QList<Sample> find(const QString &name, const QMap<QString, QString> &labels = {}) const
    {
        QList<Sample> out;
        for (const Sample &s : samples) {
            bool match = s.name == name;
            for (auto it = labels.cbegin(); match && it != labels.cend(); ++it)
                match = s.labels.value(it.key()) == it.value();
            if (match)
                out << s;
        }
        return out;
    }
    double value(const QString &name, const QMap<QString, QString> &labels = {}) const
    {
        const QList<Sample> found = find(name, labels);
        return found.size() == 1 ? found.first().value : std::nan("");
    }
};

// Labels `a="x",b="y"` with \\, \" and \n escapes; false on a syntax error.
bool parseLabels(const QString &text, QMap<QString, QString> *labels)
{
    static const QRegularExpression name(QStringLiteral("^[a-zA-Z_][a-zA-Z0-9_]*$"));
    qsizetype i = 0;
    while (i < text.size()) {
        const qsizetype eq = text.indexOf(QLatin1Char('='), i);
        if (eq < 0 || eq + 1 >= text.size() || text.at(eq + 1) != QLatin1Char('"'))
            return false;
        const QString key = text.mid(i, eq - i);
        if (!name.match(key).hasMatch() || labels->contains(key))
            return false;
        QString value;
        qsizetype j = eq + 2;
        for (; j < text.size() && text.at(j) != QLatin1Char('"'); ++j) {
            if (text.at(j) == QLatin1Char('\\')) {
                if (++j >= text.size())
                    return false;
                const QChar c = text.at(j);
                if (c == QLatin1Char('n'))
                    value += QLatin1Char('\n');
                else if (c == QLatin1Char('\\') || c == QLatin1Char('"'))
                    value += c;
                else
                    return false;
            } else {
                value += text.at(j);
            }
        }
        if (j >= text.size())
            return false;
        labels->insert(key, value);
        i = j + 1;
        if (i < text.size()) {
            if (text.at(i) != QLatin1Char(','))
                return false;
            ++i;
        }
    }
    return true;
}

QString familyOf(const Exposition &e, const QString &sample)
{
    for (const char *suffix : {"_bucket", "_sum", "_count"}) {
        const QString base = sample.chopped(qMin(sample.size(), qsizetype(qstrlen(suffix))));
        if (sample.endsWith(QLatin1String(suffix)) && e.types.value(base) == QLatin1String("histogram"))
            return base;
    }
    return sample;
}

void checkHistograms(Exposition &e)
{
    for (auto it = e.types.cbegin(); it != e.types.cend(); ++it) {
        if (it.value() != QLatin1String("histogram"))
            continue;
        QMap<QString, QList<QPair<double, double>>> buckets; // series (labels without le) -> (le, count)
        for (const Sample &s : e.find(it.key() + QLatin1String("_bucket"))) {
            QMap<QString, QString> series = s.labels;
            const QString le = series.take(QStringLiteral("le"));
            const double bound = le == QLatin1String("+Inf") ? INFINITY : le.toDouble();
            buckets[QStringList(series.values()).join(QLatin1Char(','))].append({bound, s.value});
        }
        for (auto b = buckets.cbegin(); b != buckets.cend(); ++b) {
            const auto &list = b.value();
            for (int i = 1; i < list.size(); ++i) {
                if (!(list.at(i).first > list.at(i - 1).first) || list.at(i).second < list.at(i - 1).second)
                    e.errors
                        << QStringLiteral("%1{%2}: buckets not ascending/cumulative").arg(it.key(), b.key());
            }
            if (list.isEmpty() || !std::isinf(list.last().first))
                e.errors << QStringLiteral("%1{%2}: no +Inf bucket").arg(it.key(), b.key());
            const QList<Sample> count = e.find(it.key() + QLatin1String("_count"));
            const QList<Sample> sum = e.find(it.key() + QLatin1String("_sum"));
            bool countMatches = false;
            for (const Sample &c : count) {
                if (QStringList(c.labels.values()).join(QLatin1Char(',')) == b.key())
                    countMatches = !list.isEmpty() && c.value == list.last().second;
            }
            if (!countMatches || sum.isEmpty())
                e.errors << QStringLiteral("%1{%2}: _count differs from +Inf or _sum missing")
                                .arg(it.key(), b.key());
        }
    }
}

Exposition parse(const QByteArray &text)
{
    static const QRegularExpression sampleLine(
        QStringLiteral(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$)"));
    static const QRegularExpression meta(
        QStringLiteral(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$)"));
    Exposition e;
    if (!text.endsWith('\n'))
        e.errors << QStringLiteral("no final newline");
    for (const QString &line : QString::fromUtf8(text).split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        if (line.startsWith(QLatin1Char('#'))) {
            const auto m = meta.match(line);
            if (!m.hasMatch()) {
                e.errors << QStringLiteral("bad comment: ") + line;
            } else if (m.captured(1) == QLatin1String("TYPE")) {
                static const QStringList types{QStringLiteral("counter"), QStringLiteral("gauge"),
                                               QStringLiteral("histogram"), QStringLiteral("summary"),
                                               QStringLiteral("untyped")};
                if (!types.contains(m.captured(3)) || e.types.contains(m.captured(2)))
                    e.errors << QStringLiteral("bad or repeated TYPE: ") + line;
                e.types.insert(m.captured(2), m.captured(3));
            } else {
                e.help.insert(m.captured(2), m.captured(3));
            }
            continue;
        }
        const auto m = sampleLine.match(line);
        Sample s;
        bool ok = m.hasMatch() && parseLabels(m.captured(2), &s.labels);
        s.name = m.captured(1);
        const QString value = m.captured(3);
        s.value = value == QLatin1String("+Inf") ? INFINITY : value.toDouble(&ok);
        if (!ok) {
            e.errors << QStringLiteral("bad sample: ") + line;
            continue;
        }
        const QString family = familyOf(e, s.name);
        if (!e.types.contains(family) || !e.help.contains(family))
            e.errors << QStringLiteral("sample before its HELP/TYPE: ") + line;
        if (e.types.value(family) == QLatin1String("counter") && !family.endsWith(QLatin1String("_total")))
            e.errors << QStringLiteral("counter without _total: ") + family;
        e.samples << s;
    }
    for (auto it = e.types.cbegin(); it != e.types.cend(); ++it) {
        if (!e.help.contains(it.key()))
            e.errors << QStringLiteral("no HELP for ") + it.key();
    }
    checkHistograms(e);
    return e;
}

RequestRecord record(const QString &chain, const QString &provider, int status, qint64 latencyMs)
{
    RequestRecord r;
    r.chain = chain;
    r.provider = provider;
    r.model = QStringLiteral("m");
    r.status = status;
    r.latencyMs = latencyMs;
    r.promptTokens = 10;
    r.completionTokens = 5;
    r.totalTokens = 15;
    AttemptRecord a;
    a.provider = provider;
    a.model = QStringLiteral("m");
    r.attempts << a;
    return r;
}

} // namespace

class TestMetrics : public QObject
{
    Q_OBJECT

private slots:
    void exposesCountersAndHistograms()
    {
        Metrics metrics;
        metrics.record(record(QStringLiteral("default"), QStringLiteral("a"), 200, 120));
        metrics.record(record(QStringLiteral("default"), QStringLiteral("a"), 200, 3000));
        RequestRecord stream = record(QStringLiteral("fast"), QStringLiteral("b"), 200, 900);
        stream.stream = true;
        stream.firstTokenMs = 70;
        metrics.record(stream);

        Metrics::Gauges gauges;
        gauges.requestsInFlight = 2;
        gauges.cooldowns = {{QStringLiteral("a"), QStringLiteral("m"), 12500},
                            {QStringLiteral("b"), QStringLiteral("m"), 0}};
        const Exposition e = parse(metrics.prometheusText(gauges));
        QVERIFY2(e.errors.isEmpty(), qPrintable(e.errors.join(QLatin1Char('\n'))));

        QCOMPARE(e.types.value(QStringLiteral("chain_requests_total")), QStringLiteral("counter"));
        QCOMPARE(e.types.value(QStringLiteral("chain_request_duration_seconds")),
                 QStringLiteral("histogram"));
        QCOMPARE(e.types.value(QStringLiteral("chain_requests_in_flight")), QStringLiteral("gauge"));
        QCOMPARE(e.value(QStringLiteral("chain_requests_total"),
                         {{QStringLiteral("chain"), QStringLiteral("default")},
                          {QStringLiteral("status"), QStringLiteral("200")}}),
                 2.0);
        QCOMPARE(e.value(QStringLiteral("chain_tokens_total"),
                         {{QStringLiteral("provider"), QStringLiteral("a")},
                          {QStringLiteral("kind"), QStringLiteral("prompt")}}),
                 20.0);
        QCOMPARE(e.value(QStringLiteral("chain_request_duration_seconds_bucket"),
                         {{QStringLiteral("chain"), QStringLiteral("default")},
                          {QStringLiteral("le"), QStringLiteral("0.25")}}),
                 1.0);
        QCOMPARE(e.value(QStringLiteral("chain_request_duration_seconds_count"),
                         {{QStringLiteral("chain"), QStringLiteral("default")}}),
                 2.0);
        QCOMPARE(e.value(QStringLiteral("chain_request_duration_seconds_sum"),
                         {{QStringLiteral("chain"), QStringLiteral("default")}}),
                 3.12);
        QCOMPARE(e.value(QStringLiteral("chain_time_to_first_token_seconds_bucket"),
                         {{QStringLiteral("chain"), QStringLiteral("fast")},
                          {QStringLiteral("le"), QStringLiteral("0.1")}}),
                 1.0);
        QCOMPARE(e.find(QStringLiteral("chain_time_to_first_token_seconds_count")).size(), 1); // streams only
        QCOMPARE(e.value(QStringLiteral("chain_requests_in_flight")), 2.0);
        QCOMPARE(e.value(QStringLiteral("chain_cooldown_active"),
                         {{QStringLiteral("provider"), QStringLiteral("a")}}),
                 1.0);
        QCOMPARE(e.value(QStringLiteral("chain_cooldown_remaining_seconds"),
                         {{QStringLiteral("provider"), QStringLiteral("a")}}),
                 12.5);
        QCOMPARE(e.value(QStringLiteral("chain_cooldown_active"),
                         {{QStringLiteral("provider"), QStringLiteral("b")}}),
                 0.0);
        QCOMPARE(e.value(QStringLiteral("chain_up")), 1.0);
    }

    void escapesLabelValues()
    {
        QCOMPARE(Metrics::escapeLabelValue(QStringLiteral("a\"b\\c\nd")), QByteArray("a\\\"b\\\\c\\nd"));
        Metrics metrics;
        const QString odd = QStringLiteral("we\"ird\\chain\nname é");
        metrics.record(record(odd, QStringLiteral("p"), 429, 10));
        const Exposition e = parse(metrics.prometheusText({}));
        QVERIFY2(e.errors.isEmpty(), qPrintable(e.errors.join(QLatin1Char('\n'))));
        QCOMPARE(e.value(QStringLiteral("chain_requests_total"), {{QStringLiteral("chain"), odd}}), 1.0);
    }

    void emptyExpositionIsValid()
    {
        Metrics metrics;
        const Exposition e = parse(metrics.prometheusText({}));
        QVERIFY2(e.errors.isEmpty(), qPrintable(e.errors.join(QLatin1Char('\n'))));
        for (const char *family : {"chain_requests_total", "chain_attempts_total", "chain_tokens_total",
                                   "chain_request_duration_seconds", "chain_time_to_first_token_seconds",
                                   "chain_requests_in_flight", "chain_cooldown_active",
                                   "chain_cooldown_remaining_seconds", "chain_up"}) {
            QVERIFY2(e.types.contains(QLatin1String(family)), family);
        }
    }

    void scrapedOverHttpAfterTraffic()
    {
        SimulatedProvider a(SimulatedProvider::Dialect::Groq), b;
        QVERIFY(a.listen() && b.listen());
        a.enqueue(Step::rateLimited(30));
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addProvider(QStringLiteral("b"), &b);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/ma"), QStringLiteral("b/mb")});
        QVERIFY(h.start());
        const QString chat = h.url(QStringLiteral("/v1/chat/completions"));
        QCOMPARE(HttpClient::post(chat, HttpClient::chatBody(QStringLiteral("default"), false)).status, 200);
        QVERIFY(HttpClient::stream(chat, HttpClient::chatBody(QStringLiteral("default"), true)).sawDone());
        QTRY_COMPARE(h.records.size(), 2);

        // Loopback listener: no key needed.
        const QByteArray bare = HttpClient::raw(
            h.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        QVERIFY2(bare.startsWith("HTTP/1.1 200"), bare.left(200).constData());
        const auto r = HttpClient::get(h.url(QStringLiteral("/metrics")));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Type").startsWith("text/plain; version=0.0.4"));
        const Exposition e = parse(r.body);
        QVERIFY2(e.errors.isEmpty(), qPrintable(e.errors.join(QLatin1Char('\n'))));
        QCOMPARE(e.value(QStringLiteral("chain_requests_total"),
                         {{QStringLiteral("chain"), QStringLiteral("default")},
                          {QStringLiteral("provider"), QStringLiteral("b")},
                          {QStringLiteral("status"), QStringLiteral("200")}}),
                 2.0);
        QCOMPARE(e.value(QStringLiteral("chain_attempts_total"),
                         {{QStringLiteral("provider"), QStringLiteral("a")},
                          {QStringLiteral("outcome"), QStringLiteral("rate_limited")}}),
                 1.0);
        QCOMPARE(e.value(QStringLiteral("chain_attempts_total"),
                         {{QStringLiteral("provider"), QStringLiteral("a")},
                          {QStringLiteral("outcome"), QStringLiteral("skipped")}}),
                 1.0);
        QVERIFY(e.value(QStringLiteral("chain_tokens_total"),
                        {{QStringLiteral("provider"), QStringLiteral("b")},
                         {QStringLiteral("kind"), QStringLiteral("completion")}}) > 0);
        QCOMPARE(e.value(QStringLiteral("chain_time_to_first_token_seconds_count"),
                         {{QStringLiteral("chain"), QStringLiteral("default")}}),
                 1.0);
        QCOMPARE(e.value(QStringLiteral("chain_cooldown_active"),
                         {{QStringLiteral("provider"), QStringLiteral("a")}}),
                 1.0);
        const double remaining = e.value(QStringLiteral("chain_cooldown_remaining_seconds"),
                                         {{QStringLiteral("provider"), QStringLiteral("a")}});
        QVERIFY2(remaining > 0 && remaining <= 30, qPrintable(QString::number(remaining)));
        QCOMPARE(e.value(QStringLiteral("chain_cooldown_active"),
                         {{QStringLiteral("provider"), QStringLiteral("b")}}),
                 0.0);
        QCOMPARE(e.value(QStringLiteral("chain_requests_in_flight")), 0.0);

        h.clock().advance(31 * 1000);
        const Exposition later = parse(HttpClient::get(h.url(QStringLiteral("/metrics"))).body);
        QCOMPARE(later.value(QStringLiteral("chain_cooldown_active"),
                             {{QStringLiteral("provider"), QStringLiteral("a")}}),
                 0.0);
    }

    void needsAKeyOffLoopback()
    {
        SimulatedProvider a;
        QVERIFY(a.listen());
        ProxyHarness h;
        h.addProvider(QStringLiteral("a"), &a);
        h.addChain(QStringLiteral("default"), {QStringLiteral("a/m")});
        QVERIFY(h.start());
        ApiServer wide(h.service());
        QString error;
        QVERIFY2(wide.listen(QHostAddress::AnyIPv4, 0, &error), qPrintable(error));
        QVERIFY(!wide.isLoopbackOnly());
        const QString url = QStringLiteral("http://127.0.0.1:%1/metrics").arg(wide.port());
        QCOMPARE(
            HttpClient::get(url, {{QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer wrong")}})
                .status,
            401);
        const auto r = HttpClient::get(url); // the harness client's default key
        QCOMPARE(r.status, 200);
        QVERIFY(parse(r.body).errors.isEmpty());
    }
};

QTEST_MAIN(TestMetrics)
#include "tst_metrics.moc"
