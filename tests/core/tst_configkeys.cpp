// The config key table: every setting it lists goes through the YAML writer and reader and through the admin
// API's JSON unchanged, the writer leaves out our additions at their defaults (the reference's keys are
// always written), the validator's ranges are the table's, and --init writes every key with its description.

#include "configjson.h"
#include "configkeys.h"
#include "configloader.h"
#include "configvalidator.h"
#include "configwriter.h"
#include "configyamlreader.h"

#include <QJsonArray>
#include <QTest>

#include <limits>
#include <type_traits>
#include <variant>

namespace {

std::optional<QString> noEnv(const QString &)
{
    return std::nullopt;
}

// A value of the key other than its default.
void setOtherValue(const ConfigKeys::SettingKey &k, Settings &s)
{
    std::visit(
        [&](auto member) {
            using Value = std::decay_t<decltype(s.*member)>;
            if constexpr (std::is_same_v<Value, int> || std::is_same_v<Value, qint64>)
                s.*member = Value(k.minimum + 7);
            else if constexpr (std::is_same_v<Value, bool>)
                s.*member = !(s.*member);
            else if constexpr (std::is_same_v<Value, QString>)
                s.*member = QStringLiteral("other-value");
            else if constexpr (std::is_same_v<Value, QStringList>)
                s.*member = QStringList{QStringLiteral("one"), QStringLiteral("two")};
            else
                s.*member = {{QStringLiteral("claude-*"), QStringLiteral("default")},
                             {QStringLiteral("*haiku*"), QStringLiteral("fast")}};
        },
        k.member);
}

} // namespace

class TestConfigKeys : public QObject
{
    Q_OBJECT

private slots:
    void everyKeyRoundTrips_data()
    {
        QTest::addColumn<QString>("name");
        for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable())
            QTest::newRow(k.name) << QString::fromLatin1(k.name);
    }

    void everyKeyRoundTrips()
    {
        QFETCH(QString, name);
        const ConfigKeys::SettingKey *k = ConfigKeys::setting(name);
        QVERIFY(k);
        Config config;
        setOtherValue(*k, config.settings);
        QVERIFY(!k->equal(config.settings, Settings()));

        // YAML: written (whatever kind of key) and read back.
        const QByteArray yaml = ConfigWriter::toYaml(config, QByteArray(), noEnv);
        QVERIFY2(yaml.contains(QByteArray(QByteArray("\n  ") + k->name + ':')), yaml.constData());
        const ConfigYamlReader::Result read = ConfigYamlReader::read(yaml, noEnv);
        QVERIFY(read.config);
        QVERIFY(read.errors.isEmpty());
        QVERIFY(k->equal(read.config->settings, config.settings));
        QCOMPARE(ConfigKeys::changedSettings(read.config->settings, config.settings), QStringList());

        // JSON: out (secrets masked) and back in, a masked secret keeping the stored value.
        QString error;
        const auto back = ConfigJson::settingsFromJson(ConfigJson::settingsToJson(config.settings),
                                                       config.settings, &error);
        QVERIFY2(back, qPrintable(error));
        QVERIFY(k->equal(*back, config.settings));
        if (k->type == ConfigKeys::Type::SecretList)
            QVERIFY(!ConfigJson::settingsToJson(config.settings)
                         .value(name)
                         .toArray()
                         .contains(QStringLiteral("one")));

        // Only this key differs from the defaults, and only restart-only keys count as such.
        QCOMPARE(ConfigKeys::changedSettings(config.settings, Settings()), QStringList{name});
        QCOMPARE(ConfigKeys::changedRestartSettings(config.settings, Settings()),
                 k->restartOnly ? QStringList{k->path()} : QStringList());
    }

    void writerLeavesOutOurDefaults()
    {
        const QByteArray yaml = ConfigWriter::toYaml(Config(), QByteArray(), noEnv);
        for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable())
            QCOMPARE(yaml.contains(QByteArray(QByteArray("\n  ") + k.name + ':')), k.reference);
    }

    void validatorUsesTheTableRanges_data()
    {
        QTest::addColumn<QString>("name");
        for (const ConfigKeys::SettingKey &k : ConfigKeys::settingsTable()) {
            if (k.isInteger())
                QTest::newRow(k.name) << QString::fromLatin1(k.name);
        }
    }

    void validatorUsesTheTableRanges()
    {
        QFETCH(QString, name);
        const ConfigKeys::SettingKey *k = ConfigKeys::setting(name);
        const auto issuesAt = [&](qint64 value) {
            Config config;
            std::visit(
                [&](auto member) {
                    using Value = std::decay_t<decltype(config.settings.*member)>;
                    if constexpr (std::is_same_v<Value, int> || std::is_same_v<Value, qint64>)
                        config.settings.*member = Value(value);
                },
                k->member);
            QStringList paths;
            for (const ConfigIssue &issue : ConfigValidator::check(config))
                paths << issue.path;
            return paths.contains(k->path());
        };
        QVERIFY(!issuesAt(k->minimum));
        QVERIFY(issuesAt(k->minimum - 1));
        if (k->maximum < std::numeric_limits<int>::max()) {
            QVERIFY(!issuesAt(k->maximum));
            QVERIFY(issuesAt(k->maximum + 1));
        }
    }
};

QTEST_GUILESS_MAIN(TestConfigKeys)
#include "tst_configkeys.moc"
