#include "pgserver.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>

#include <unistd.h>

namespace {

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

} // namespace

PgServer::PgServer() : m_asNobody(geteuid() == 0) {}

PgServer::~PgServer()
{
    if (m_running) {
        QString ignored;
        stop(&ignored);
    }
}

QString PgServer::binDir()
{
    const QString dir = qEnvironmentVariable("PG_BINDIR", QStringLiteral("/usr/lib/postgresql/15/bin"));
    return QFileInfo::exists(dir + QStringLiteral("/initdb")) &&
                   QFileInfo::exists(dir + QStringLiteral("/pg_ctl"))
               ? dir
               : QString();
}

QString PgServer::missingReason()
{
    if (binDir().isEmpty())
        return QStringLiteral(
            "PostgreSQL 15 is not installed (Debian: postgresql-15; scripts/test installs it)");
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        return QStringLiteral("the Qt PostgreSQL driver is not installed (Debian: libqt6sql6-psql)");
    return QString();
}

bool PgServer::run(const QString &program, const QStringList &arguments, QString *error, int timeoutMs)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C.UTF-8"));
    env.remove(QStringLiteral("PGDATA"));
    process.setProcessEnvironment(env);
    process.setWorkingDirectory(m_dir->path());
    const QString path = binDir() + QLatin1Char('/') + program;
    if (m_asNobody)
        process.start(QStringLiteral("runuser"), QStringList{QStringLiteral("-u"), QStringLiteral("nobody"),
                                                             QStringLiteral("--"), path} +
                                                     arguments);
    else
        process.start(path, arguments);
    if (!process.waitForFinished(timeoutMs) || process.exitStatus() != QProcess::NormalExit ||
        process.exitCode() != 0) {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished();
        }
        *error = QStringLiteral("%1 failed: %2\n%3")
                     .arg(program, process.errorString(), QString::fromLocal8Bit(process.readAll()));
        return false;
    }
    return true;
}

bool PgServer::start(QString *error)
{
    if (m_running)
        return true;
    if (!missingReason().isEmpty()) {
        *error = missingReason();
        return false;
    }
    if (!m_initialized) {
        // Short and world-traversable: `nobody` must reach it, and the socket path has a length limit.
        m_dir = std::make_unique<QTemporaryDir>(QStringLiteral("/tmp/chain-pg-XXXXXX"));
        if (!m_dir->isValid()) {
            *error = QStringLiteral("cannot create a temporary folder: ") + m_dir->errorString();
            return false;
        }
        QFile pw(m_dir->filePath(QStringLiteral("pw")));
        if (!pw.open(QIODevice::WriteOnly) || pw.write(kPassword) < 0) {
            *error = QStringLiteral("cannot write the password file");
            return false;
        }
        pw.close();
        if (m_asNobody) {
            QProcess chown;
            chown.start(QStringLiteral("chown"),
                        {QStringLiteral("-R"), QStringLiteral("nobody"), m_dir->path()});
            if (!chown.waitForFinished() || chown.exitCode() != 0) {
                *error = QStringLiteral("chown nobody failed: ") + QString::fromLocal8Bit(chown.readAll());
                return false;
            }
        }
        if (!run(QStringLiteral("initdb"),
                 {QStringLiteral("-D"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("-U"),
                  QLatin1String(kUser), QStringLiteral("--pwfile=") + m_dir->filePath(QStringLiteral("pw")),
                  QStringLiteral("--auth-host=scram-sha-256"), QStringLiteral("--auth-local=trust"),
                  QStringLiteral("-E"), QStringLiteral("UTF8"), QStringLiteral("--no-sync")},
                 error))
            return false;
        m_port = freePort();
        if (m_port == 0) {
            *error = QStringLiteral("no free port");
            return false;
        }
        m_initialized = true;
    }
    // fsync off: a test database need not survive a power cut, and the machine's disk is shared.
    const QString options =
        QStringLiteral("-c listen_addresses=127.0.0.1 -p %1 -k %2 -c fsync=off -c synchronous_commit=off "
                       "-c full_page_writes=off -c shared_buffers=16MB -c max_connections=60")
            .arg(m_port)
            .arg(m_dir->path());
    if (!run(QStringLiteral("pg_ctl"),
             {QStringLiteral("-D"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("-l"),
              m_dir->filePath(QStringLiteral("server.log")), QStringLiteral("-o"), options,
              QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"), QStringLiteral("start")},
             error)) {
        *error += serverLog();
        return false;
    }
    m_running = true;
    return true;
}

bool PgServer::stop(QString *error)
{
    if (!m_running)
        return true;
    if (!run(QStringLiteral("pg_ctl"),
             {QStringLiteral("-D"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("-m"),
              QStringLiteral("fast"), QStringLiteral("-w"), QStringLiteral("stop")},
             error))
        return false;
    m_running = false;
    return true;
}

bool PgServer::createDatabase(const QString &name, QString *error)
{
    const QString connection = QStringLiteral("pgserver.admin.%1").arg(m_port);
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(QStringLiteral("127.0.0.1"));
        db.setPort(m_port);
        db.setUserName(QLatin1String(kUser));
        db.setPassword(QLatin1String(kPassword));
        db.setDatabaseName(QStringLiteral("postgres"));
        if (!db.open()) {
            *error = db.lastError().text();
        } else {
            QSqlQuery query(db);
            ok = query.exec(QStringLiteral("CREATE DATABASE \"%1\"").arg(name));
            if (!ok)
                *error = query.lastError().text();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    return ok;
}

QString PgServer::url(const QString &database) const
{
    return QStringLiteral("postgresql://%1:%2@127.0.0.1:%3/%4")
        .arg(QLatin1String(kUser), QLatin1String(kPassword))
        .arg(m_port)
        .arg(database);
}

QString PgServer::serverLog() const
{
    if (!m_dir)
        return QString();
    QFile log(m_dir->filePath(QStringLiteral("server.log")));
    return log.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(log.readAll()) : QString();
}
