# Sourced by scripts/check-docker and scripts/check-package (after common.sh): a clean Debian 12 base made with
# debootstrap, so both checks start from what a fresh machine or the official debian:bookworm image holds.
set -euo pipefail

PKG_CACHE="${PKG_CACHE:-/var/tmp/429chain-pkg-cache}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "$(basename "$0"): needs root (debootstrap, chroot, buildah): run it with sudo" >&2
        exit 1
    fi
}

# Prints the path of a tarball of `debootstrap --variant=minbase bookworm` (main, updates and security sources,
# no package cache). Made once and kept in $PKG_CACHE; delete the file to make a new one.
bookworm_minbase_tarball() {
    local tarball="$PKG_CACHE/bookworm-minbase.tar"
    if [ ! -s "$tarball" ]; then
        mkdir -p "$PKG_CACHE"
        local tree
        tree="$(mktemp -d "$PKG_CACHE/rootfs.XXXXXX")"
        echo "==> debootstrap --variant=minbase bookworm (log: $PKG_CACHE/debootstrap.log)" >&2
        if ! debootstrap --variant=minbase bookworm "$tree" "$DEBIAN_MIRROR" >"$PKG_CACHE/debootstrap.log" 2>&1; then
            tail -n 20 "$PKG_CACHE/debootstrap.log" >&2
            rm -rf "$tree"
            return 1
        fi
        cat >"$tree/etc/apt/sources.list" <<SOURCES
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb $DEBIAN_SECURITY_MIRROR bookworm-security main
SOURCES
        rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
        chmod 0755 "$tree" # mktemp made it 0700: as the root of a system, others must be able to enter it
        tar -C "$tree" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$tree"
    fi
    echo "$tarball"
}
