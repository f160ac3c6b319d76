#include "logsetup.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <cstdio>

namespace {
bool g_json = false;

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warn";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QString category = QString::fromLatin1(context.category ? context.category : "default");
    QByteArray line;
    if (g_json) {
        line = QJsonDocument(QJsonObject{{QStringLiteral("time"),
                                          QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
                                         {QStringLiteral("level"), QLatin1String(levelName(type))},
                                         {QStringLiteral("category"), category},
                                         {QStringLiteral("msg"), message}})
                   .toJson(QJsonDocument::Compact);
    } else {
        line = (QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss.zzz")) + QLatin1Char(' ') +
                QString::fromLatin1(levelName(type)).toUpper().leftJustified(5) + QLatin1Char(' ') +
                category + QLatin1String(": ") + message)
                   .toUtf8();
    }
    line += '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
    if (type == QtFatalMsg)
        std::abort();
}
} // namespace

void LogSetup::install(const QString &format)
{
    g_json = format.compare(QLatin1String("json"), Qt::CaseInsensitive) == 0;
    qInstallMessageHandler(handler);
    setLevel(QStringLiteral("info"));
}

void LogSetup::setLevel(const QString &level)
{
    const QString l = level.toLower();
    QString rules = QStringLiteral("qt.*.debug=false\n");
    if (l == QLatin1String("trace") || l == QLatin1String("debug"))
        rules += QStringLiteral("chain.*.debug=true\n");
    else
        rules += QStringLiteral("chain.*.debug=false\ndefault.debug=false\n");
    if (l == QLatin1String("warn") || l == QLatin1String("error") || l == QLatin1String("fatal"))
        rules += QStringLiteral("chain.*.info=false\ndefault.info=false\n");
    if (l == QLatin1String("error") || l == QLatin1String("fatal"))
        rules += QStringLiteral("chain.*.warning=false\n");
    QLoggingCategory::setFilterRules(rules);
}
