#pragma once

#include <QString>
#include <QTemporaryDir>

#include <memory>

// A throwaway PostgreSQL 15 for the tests that need a real shared database: initdb into a temporary folder,
// the server on 127.0.0.1 and a free port (password authentication for TCP, as a deployment has it), stopped
// and removed with this object. PostgreSQL refuses to run as root, so under root (CI) the folder is handed
// to the unprivileged user `nobody` and the server runs as that user (runuser). stop() and start() again
// keep the data: the fault tests stop the database under load and bring it back.
class PgServer
{
public:
    static constexpr const char *kUser = "chain";
    static constexpr const char *kPassword = "s3cret-pw";

    PgServer();
    ~PgServer();

    // The folder of initdb/pg_ctl (PG_BINDIR, else /usr/lib/postgresql/15/bin); empty when not installed.
    static QString binDir();
    // Why a test must skip (empty when PostgreSQL is installed).
    static QString missingReason();

    bool start(QString *error); // initdb on first start
    bool stop(QString *error);  // fast shutdown; the data stays
    bool isRunning() const { return m_running; }
    quint16 port() const { return m_port; }
    // A new empty database.
    bool createDatabase(const QString &name, QString *error);
    // postgresql://chain:s3cret-pw@127.0.0.1:<port>/<database>
    QString url(const QString &database) const;
    QString serverLog() const;

private:
    bool run(const QString &program, const QStringList &arguments, QString *error, int timeoutMs = 60000);

    std::unique_ptr<QTemporaryDir> m_dir;
    quint16 m_port = 0;
    bool m_initialized = false;
    bool m_running = false;
    bool m_asNobody = false;
};
