#pragma once

#include "config.h"
#include "servicebridge.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <functional>
#include <memory>

class ApiServer;
class ProxyService;
class RequestStore;
class SimulatedProvider;
class SystemClock;

// What the GUI tests run against, wired as the app wires it: a ProxyService (and, on request, the HTTP
// server) on an engine thread of its own, simulated providers on that thread too (so a blocked GUI thread
// blocks none of them), a request log in a temporary folder, a config file there (admin operations save to
// it), and a ServiceBridge on the test's (GUI) thread.
//
// The default config: providers "alpha" (groq dialect, model "alpha-model") and "beta" (openrouter dialect,
// model "beta-model"); chains "default" (alpha -> beta, the default) and "backup" (beta). Client key
// GuiHarness::kApiKey.
class GuiHarness
{
public:
    static constexpr const char *kApiKey = "gui-test-key";

    struct Options
    {
        bool withHttp = false; // also an ApiServer on 127.0.0.1, port 0 (clients of the real API)
        bool withStore = true; // the request log (and the bridge's stats)
        std::function<void(Config &)> editConfig; // changes to the default config before the start
    };

    GuiHarness();
    explicit GuiHarness(const Options &options);
    ~GuiHarness();

    bool start(); // false (with a warning) if something could not start
    ServiceBridge *bridge() const { return m_bridge.get(); }
    // Engine-thread objects: touch them only through runOnEngine.
    ProxyService *service() const { return m_service; }
    SimulatedProvider *provider(const QString &id) const;
    RequestStore *store() const { return m_store; }
    quint16 port() const { return m_port; } // the HTTP server's, with Options::withHttp
    QString url(const QString &path) const;
    QString configPath() const { return m_dir.filePath(QStringLiteral("config.yaml")); }
    QString dataDir() const { return m_dir.path(); }

    // Runs `work` on the engine thread and waits for it.
    void runOnEngine(const std::function<void()> &work);
    // Makes every recorded request readable by stats queries (waits for the request log's writer).
    void flushStore();

    // Spins the GUI thread's event loop until `condition` holds or `timeoutMs` passed; returns the condition.
    static bool waitFor(const std::function<bool()> &condition, int timeoutMs = 15000);

    // A chat completion request for `chain` with one user message.
    static QJsonObject chatBody(const QString &chain, bool stream = false,
                                const QString &prompt = QStringLiteral("Hi"));
    // Sends one chat through the bridge and waits for its end; the record it finished with (status 0, with a
    // warning, when it did not finish).
    RequestRecord chat(const QString &chain, bool stream = false);

private:
    Options m_options;
    QTemporaryDir m_dir;
    QThread m_engineThread;
    QObject *m_context = nullptr; // on the engine thread; owns everything that lives there
    SystemClock *m_clock = nullptr;
    ProxyService *m_service = nullptr;
    RequestStore *m_store = nullptr;
    ApiServer *m_server = nullptr;
    QList<QPair<QString, SimulatedProvider *>> m_providers;
    quint16 m_port = 0;
    std::unique_ptr<ServiceBridge> m_bridge;
};

// Helpers for widget tests that drive modal dialogs.
namespace GuiTest {

// Bumped by every test's cleanup (nextGeneration()): a modal handler left over from a failed test must not
// act in the next one.
int generation();
void nextGeneration();

// Runs `act` on the next modal widget of type T once it is up (a dialog's exec() blocks the caller).
template<class T> void whenModal(std::function<void(T *)> act, int tries = 1000, int forGeneration = -1)
{
    if (forGeneration < 0)
        forGeneration = generation();
    QTimer::singleShot(10, qApp, [act, tries, forGeneration] {
        if (forGeneration != generation())
            return;
        if (auto *widget = qobject_cast<T *>(QApplication::activeModalWidget())) {
            act(widget);
            return;
        }
        if (tries > 0)
            whenModal<T>(act, tries - 1, forGeneration);
        else
            qWarning("no modal %s appeared", T::staticMetaObject.className());
    });
}

// The child of `parent` named `name` (a warning when there is none).
template<class T> T *child(QObject *parent, const char *name)
{
    T *found = parent->findChild<T *>(QLatin1String(name));
    if (!found)
        qWarning("no child %s", name);
    return found;
}

} // namespace GuiTest
