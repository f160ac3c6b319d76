#pragma once

#include "config.h"
#include "configloader.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

// Saves a Config as the reference-compatible YAML file: version 1, every reference settings key (defaults
// materialised, as the reference's writer does), our optional keys only when they are not the default, then
// providers and chains. ConfigLoader reads the result back into an equal Config. Used by ProxyService for
// every admin change (HTTP admin API and GUI alike).
//
// Comments and formatting of a hand-written file are NOT preserved: the file is regenerated from the model (a
// one-line header says so, and the previous file is kept as "<path>.bak"). What is preserved: a value written
// as a ${ENV_VAR} reference in the previous file stays a reference as long as it still expands to the value
// being written, so secrets kept in the environment do not end up in the file. Any other "${" in a value is
// written as
// "$${" so that it reads back literally.
//
// Writes are atomic: the previous file is copied to "<path>.bak", the new content goes to a temporary file in
// the same directory, is flushed to disk and renamed over the old one. Both files are owner-only (0600). Keys
// are never logged.
class ConfigWriter
{
    Q_DECLARE_TR_FUNCTIONS(ConfigWriter)

public:
    // Serializes `config` and writes it to `path` atomically. On failure returns false with a message in
    // `error` and leaves the file as it was. `written` receives the exact bytes written.
    static bool write(const Config &config, const QString &path, QString *error,
                      QByteArray *written = nullptr);

    // The YAML text for `config`. `previous` is the file being replaced (for its ${ENV} references); `env`
    // expands them to check they still give the same values.
    static QByteArray toYaml(const Config &config, const QByteArray &previous = QByteArray(),
                             const ConfigLoader::EnvLookup &env = ConfigLoader::systemEnvironment());

    // The settings block of --init's example: every setting with its default (or the table's example
    // value) and its description as a comment; our additions commented out. Starts with "settings:".
    static QByteArray exampleSettings();

    // Replaces `path` with `content` atomically, keeping the old file as "<path>.bak"; both 0600.
    static bool replaceFile(const QString &path, const QByteArray &content, QString *error);
};
