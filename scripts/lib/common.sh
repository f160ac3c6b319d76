# Shared by scripts/run and scripts/test: install what is missing (Debian 12), configure and build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# qt6-websockets-dev: Qt6HttpServer's CMake config needs it, and Debian 12's qt6-httpserver-dev does not depend on it.
BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev libqt6sql6-sqlite libqt6sql6-psql qt6-tools-dev qt6-l10n-tools
    libyaml-cpp-dev qt6-svg-dev)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages given that are not installed yet.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing: ${missing[*]}"
        # Another apt run (a second checkout's scripts) may hold the lock: wait for it instead of failing.
        as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
            --no-install-recommends "${missing[@]}"
    fi
}

# What the web UI's browser tests, scripts/screenshots and the end-to-end client tests (tests/e2e) need: Debian's
# chromium, Node.js with npm (a Node.js that is already installed, e.g. one with its own npm, is kept), and the
# devDependencies of package-lock.json (playwright-core, the Anthropic and OpenAI SDKs, Claude Code; without their
# install scripts: Claude Code then runs through its cli-wrapper.cjs).
# playwright-core never downloads a browser here: the tests drive /usr/bin/chromium.
ensure_webui_tools() {
    ensure_packages chromium
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        ensure_packages nodejs npm
    fi
    if [ ! -f "$ROOT/node_modules/playwright-core/package.json" ] ||
        [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
        echo "==> npm ci (playwright-core, client SDKs and CLIs)"
        # --ignore-scripts: the package's own install script compiles 429chain (the npm package), not wanted here.
        (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    fi
}

# configure_and_build BUILD_DIR BUILD_TYPE [extra cmake args...]
configure_and_build() {
    local dir="$1" type="$2"
    shift 2
    # ccache, when installed, makes rebuilds (and a second checkout's builds) cheap.
    if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null 2>&1; then
        export CMAKE_CXX_COMPILER_LAUNCHER=ccache
    fi
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
    cmake --build "$dir" --parallel "$(nproc)"
}
