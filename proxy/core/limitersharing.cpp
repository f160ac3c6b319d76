#include "limitersharing.h"

#include "limiterbus.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QUuid>

Q_LOGGING_CATEGORY(lcSharing, "chain.limits.shared")

namespace {
constexpr int kVersion = 1;
// NOTIFY payloads are limited to 8000 bytes: a pass with more pairs than this goes out in several messages.
constexpr int kPairsPerMessage = 40;
} // namespace

LimiterSharing::LimiterSharing(RateLimitTracker &tracker, LimiterBus &bus, const QString &replica,
                               QObject *parent)
    : QObject(parent)
    , m_tracker(tracker)
    , m_bus(bus)
    , m_replica(replica)
    , m_sender(QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    m_useTimer.setSingleShot(true);
    m_useTimer.setInterval(kUseIntervalMs);
    connect(&m_useTimer, &QTimer::timeout, this, &LimiterSharing::sendUse);
    connect(&tracker, &RateLimitTracker::cooldownStarted, this, &LimiterSharing::onCooldownStarted);
    connect(&tracker, &RateLimitTracker::attemptAdmitted, this, &LimiterSharing::onAdmitted);
    connect(&tracker, &RateLimitTracker::stateReset, this, &LimiterSharing::onReset);
    bus.setLimiterReceiver(this, [this](const QByteArray &message) { apply(message); });
}

LimiterSharing::~LimiterSharing()
{
    sendUse();
    m_bus.setLimiterReceiver(nullptr, {});
}

void LimiterSharing::publish(QJsonObject message)
{
    message.insert(QStringLiteral("v"), kVersion);
    message.insert(QStringLiteral("from"), m_replica);
    message.insert(QStringLiteral("sid"), m_sender);
    m_bus.publishLimiterMessage(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void LimiterSharing::onCooldownStarted(const QString &provider, const QString &model, qint64 untilMs,
                                       const QString &reason)
{
    if (m_applying)
        return;
    const auto cooldown = m_tracker.scopeCooldown(provider, model);
    const int kind = int(cooldown ? cooldown->kind : RateLimitTracker::Kind::RateLimited);
    publish({{QStringLiteral("t"), QStringLiteral("cooldown")},
             {QStringLiteral("p"), provider},
             {QStringLiteral("m"), model},
             {QStringLiteral("ms"), untilMs - m_tracker.clock().nowMs()},
             {QStringLiteral("k"), kind},
             {QStringLiteral("r"), reason}});
}

void LimiterSharing::onAdmitted(const QString &provider, const QString &model, qint64 tokens)
{
    if (m_applying)
        return;
    QPair<qint64, qint64> &use = m_pendingUse[{provider, model}];
    ++use.first;
    use.second += tokens;
    if (!m_useTimer.isActive())
        m_useTimer.start();
}

void LimiterSharing::sendUse()
{
    QJsonArray pairs;
    for (auto it = m_pendingUse.cbegin(); it != m_pendingUse.cend(); ++it) {
        pairs.append(QJsonArray{it.key().first, it.key().second, it.value().first, it.value().second});
        if (pairs.size() == kPairsPerMessage) {
            publish({{QStringLiteral("t"), QStringLiteral("use")}, {QStringLiteral("u"), pairs}});
            pairs = QJsonArray();
        }
    }
    m_pendingUse.clear();
    if (!pairs.isEmpty())
        publish({{QStringLiteral("t"), QStringLiteral("use")}, {QStringLiteral("u"), pairs}});
}

void LimiterSharing::onReset(const QString &provider, const QString &model)
{
    if (m_applying)
        return;
    publish({{QStringLiteral("t"), QStringLiteral("reset")},
             {QStringLiteral("p"), provider},
             {QStringLiteral("m"), model}});
}

void LimiterSharing::apply(const QByteArray &message)
{
    const QJsonObject o = QJsonDocument::fromJson(message).object();
    if (o.value(QLatin1String("v")).toInt() != kVersion) {
        qCDebug(lcSharing) << "ignoring a limiter message of another version:" << message.left(200);
        return;
    }
    // Own messages may come back; told by the sender id, not the name (two replicas given the same name by
    // mistake still share).
    if (o.value(QLatin1String("sid")).toString() == m_sender)
        return;
    const QString type = o.value(QLatin1String("t")).toString();
    const QString provider = o.value(QLatin1String("p")).toString();
    const QString model = o.value(QLatin1String("m")).toString();
    m_applying = true;
    if (type == QLatin1String("cooldown")) {
        const int kind = o.value(QLatin1String("k")).toInt();
        m_tracker.applySharedCooldown(
            provider, model, o.value(QLatin1String("ms")).toInteger(),
            kind >= 0 && kind <= int(RateLimitTracker::Kind::NoAllowance)
                ? RateLimitTracker::Kind(kind)
                : RateLimitTracker::Kind::RateLimited,
            o.value(QLatin1String("r")).toString() +
                QStringLiteral(" (learned by %1)").arg(o.value(QLatin1String("from")).toString()));
    } else if (type == QLatin1String("reset")) {
        if (provider.isEmpty())
            m_tracker.clear();
        else
            m_tracker.reset(provider, model);
    } else if (type == QLatin1String("use")) {
        for (const QJsonValue &v : o.value(QLatin1String("u")).toArray()) {
            const QJsonArray pair = v.toArray();
            m_tracker.applySharedUse(pair.at(0).toString(), pair.at(1).toString(), pair.at(2).toInteger(),
                                     pair.at(3).toInteger());
        }
    }
    m_applying = false;
    ++m_received;
}
