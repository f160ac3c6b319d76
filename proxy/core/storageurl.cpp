#include "storageurl.h"

#include <QStringList>
#include <QUrl>
#include <QUrlQuery>

namespace {

const char kMask[] = "***";

// The libpq parameters a URL query may set (https://www.postgresql.org/docs/15/libpq-connect.html), the
// ones that make sense for a server-side client.
const QStringList &knownOptions()
{
    static const QStringList options{QStringLiteral("sslmode"),
                                     QStringLiteral("sslrootcert"),
                                     QStringLiteral("sslcert"),
                                     QStringLiteral("sslkey"),
                                     QStringLiteral("connect_timeout"),
                                     QStringLiteral("application_name"),
                                     QStringLiteral("target_session_attrs"),
                                     QStringLiteral("keepalives"),
                                     QStringLiteral("keepalives_idle"),
                                     QStringLiteral("options")};
    return options;
}

bool isPostgresScheme(const QString &scheme)
{
    return scheme == QLatin1String("postgresql") || scheme == QLatin1String("postgres");
}

} // namespace

std::optional<StorageUrl> StorageUrl::parse(const QString &text, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty() || trimmed.compare(QLatin1String("sqlite"), Qt::CaseInsensitive) == 0)
        return StorageUrl();

    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || !isPostgresScheme(url.scheme().toLower())) {
        return fail(tr("must be \"sqlite\" or a URL postgresql://user:password@host:port/database "
                       "(got %1)")
                        .arg(masked(trimmed)));
    }
    StorageUrl out;
    out.kind = Kind::PostgreSql;
    out.host = url.host(QUrl::FullyDecoded);
    if (out.host.isEmpty())
        return fail(tr("%1 names no host").arg(masked(trimmed)));
    out.port = url.port(5432);
    if (out.port < 1 || out.port > 65535)
        return fail(tr("%1 has no valid port").arg(masked(trimmed)));
    out.user = url.userName(QUrl::FullyDecoded);
    if (out.user.isEmpty())
        return fail(tr("%1 names no user (postgresql://user:password@host/database)").arg(masked(trimmed)));
    out.password = url.password(QUrl::FullyDecoded);
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (path.isEmpty() || path.contains(QLatin1Char('/')))
        return fail(
            tr("%1 names no database (postgresql://user:password@host/database)").arg(masked(trimmed)));
    out.database = path;
    if (!url.fragment().isEmpty())
        return fail(tr("%1 has a fragment (#…), which means nothing here").arg(masked(trimmed)));

    QStringList options;
    const QUrlQuery query(url);
    for (const auto &item : query.queryItems(QUrl::FullyDecoded)) {
        if (!knownOptions().contains(item.first)) {
            return fail(tr("%1: unknown connection option \"%2\" (known: %3)")
                            .arg(masked(trimmed), item.first, knownOptions().join(QLatin1String(", "))));
        }
        if (item.second.contains(QLatin1Char(';')))
            return fail(tr("%1: option \"%2\" must not contain ';'").arg(masked(trimmed), item.first));
        options << item.first + QLatin1Char('=') + item.second;
    }
    out.connectOptions = options.join(QLatin1Char(';'));
    return out;
}

QString StorageUrl::masked(const QString &text)
{
    QUrl url(text.trimmed(), QUrl::TolerantMode);
    if (!url.isValid() || !isPostgresScheme(url.scheme().toLower()) || url.password().isEmpty())
        return text;
    url.setPassword(QLatin1String(kMask));
    return url.toString(QUrl::None);
}

QString StorageUrl::describe() const
{
    if (kind == Kind::Sqlite)
        return QStringLiteral("sqlite");
    return QStringLiteral("postgresql://%1@%2:%3/%4").arg(user, host).arg(port).arg(database);
}
