#pragma once

#include <QString>

// The proxy's client API keys as the desktop app makes them (first-run onboarding, Settings' Generate): one
// place for their shape. The web UI makes the same shape in resources/webui/settings.js.
namespace ClientKey {

// A new random key: "sk-429chain-" + 32 URL-safe base64 characters (24 bytes) from the operating system's
// cryptographically secure source.
QString generate();

} // namespace ClientKey
