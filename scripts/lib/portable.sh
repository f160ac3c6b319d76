# Sourced by scripts/package --portable and tests/package/check-portable-tree: assembles the portable Linux tree
# (a 429chain binary with the shared libraries and Qt plugins it loads, found through relative RUNPATHs and a
# qt.conf). installer/README.md ("Portable Linux build") describes the layout.
#
#   portable_assemble BINARY DEST [--strip]
#
# Needs patchelf, binutils (readelf, strip) and cc (build-essential). Works on a Debian 12 host with the Qt 6
# runtime installed: the libraries are copied from where the host's loader finds them.

# What the tree leaves to the system: glibc (package libc6), libstdc++ and libgcc_s. Everything else `ldd` shows
# is copied into lib/. tests/package/check-portable-tree checks a running tree against the same list.
PORTABLE_SYSTEM_LIBS='^(ld-linux-x86-64\.so\.2|linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libmvec\.so\.1|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libanl\.so\.1|libnsl\.so\.1|libBrokenLocale\.so\.1|libnss_[a-z]+\.so\.2|libthread_db\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'

# The Qt plugins the headless program loads: the SQLite driver (request log) and the TLS backends (https
# upstreams; the OpenSSL one does the work, the certificate-only one is Qt's fallback).
PORTABLE_PLUGINS=(sqldrivers/libqsqlite.so tls/libqopensslbackend.so tls/libqcertonlybackend.so)
# Libraries loaded with dlopen, invisible to ldd: Debian's Qt OpenSSL backend loads OpenSSL 3 at run time, asking
# for the unversioned names libcrypto.so and libssl.so first (then scanning /lib, /usr/lib, /lib64, ... and the
# folders of loaded libraries for libcrypto.*). So the tree has those names too, found through the RUNPATHs before
# any on the system (a host with libssl-dev has them). They are not links (npm packs no symbolic links) nor
# copies (5 MB more) but empty libraries that need the versioned ones: Qt looks the OpenSSL functions up through
# them, and dlsym searches a library's dependencies. Made with the C compiler of the build.
PORTABLE_DLOPENED=(libssl.so.3 libcrypto.so.3)

portable_qt_plugin_dir() {
    local dir
    for q in /usr/lib/qt6/bin/qtpaths /usr/lib/qt6/bin/qtpaths6 qtpaths6; do
        if command -v "$q" >/dev/null 2>&1 && dir="$("$q" --query QT_INSTALL_PLUGINS 2>/dev/null)" && [ -d "$dir" ]; then
            echo "$dir"
            return
        fi
    done
    echo /usr/lib/x86_64-linux-gnu/qt6/plugins
}

# Prints "soname path" for every library ldd resolves for the files given that the system does not provide.
portable_needed_libs() {
    local out
    for f in "$@"; do
        out="$(ldd "$f")" || { echo "portable: ldd $f failed" >&2; return 1; }
        if grep -q 'not found' <<<"$out"; then
            echo "portable: $f needs a library the host lacks:" >&2
            grep 'not found' <<<"$out" >&2
            return 1
        fi
        awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' <<<"$out"
    done | sort -u | while read -r soname path; do
        [[ "$soname" =~ $PORTABLE_SYSTEM_LIBS ]] || echo "$soname $path"
    done
}

# Prints the highest version of a versioned symbol set (GLIBC, GLIBCXX) that any ELF file of the tree needs.
portable_max_version() {
    local tree="$1" prefix="$2"
    for f in "$tree"/libexec/429chain "$tree"/lib/*.so* "$tree"/plugins/*/*.so; do
        readelf -W --version-info "$f"
    done | grep -o "Name: ${prefix}_[0-9][0-9.]*" | sed "s/Name: ${prefix}_//" | sort -uV | tail -n 1
}

portable_assemble() {
    local binary="$1" dest="$2" strip=0
    [ "${3:-}" = --strip ] && strip=1
    local plugins
    plugins="$(portable_qt_plugin_dir)"
    [ -x "$binary" ] || { echo "portable: no binary at $binary" >&2; return 1; }
    rm -rf "$dest"
    mkdir -p "$dest/bin" "$dest/libexec" "$dest/lib" "$dest/plugins"

    # The program lives in libexec/ beside its qt.conf (Qt reads qt.conf from the executable's own folder);
    # bin/429chain is the launcher that checks glibc and then execs it.
    install -m 0755 "$binary" "$dest/libexec/429chain"
    local sources=("$binary")
    for p in "${PORTABLE_PLUGINS[@]}"; do
        [ -f "$plugins/$p" ] || { echo "portable: Qt plugin $plugins/$p is missing" >&2; return 1; }
        mkdir -p "$dest/plugins/$(dirname "$p")"
        install -m 0644 "$plugins/$p" "$dest/plugins/$p"
        sources+=("$plugins/$p")
    done
    for soname in "${PORTABLE_DLOPENED[@]}"; do
        local path
        path="$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64/ { print $NF; exit }')"
        [ -n "$path" ] || { echo "portable: $soname is not installed (libssl3)" >&2; return 1; }
        install -m 0644 "$(readlink -f "$path")" "$dest/lib/$soname"
        local stub="${soname%.so.*}.so"
        cc -shared -nostdlib -x c /dev/null -o "$dest/lib/$stub" -Wl,--no-as-needed,-soname,"$stub" \
            -L"$dest/lib" -l:"$soname" || { echo "portable: cannot make $stub (needs cc)" >&2; return 1; }
        strip --strip-unneeded "$dest/lib/$stub"
        chmod 0644 "$dest/lib/$stub"
        sources+=("$path")
    done
    local libs
    libs="$(portable_needed_libs "${sources[@]}")" || return 1
    while read -r soname path; do
        install -m 0644 "$(readlink -f "$path")" "$dest/lib/$soname"
    done <<<"$libs"

    if [ "$strip" = 1 ]; then
        strip --strip-unneeded "$dest/libexec/429chain"
    fi
    patchelf --set-rpath '$ORIGIN/../lib' "$dest/libexec/429chain"
    for f in "$dest"/lib/*.so*; do
        patchelf --set-rpath '$ORIGIN' "$f"
    done
    for p in "${PORTABLE_PLUGINS[@]}"; do
        patchelf --set-rpath '$ORIGIN/../../lib' "$dest/plugins/$p"
    done

    # Relative paths in qt.conf are relative to the folder of the executable: the tree's root, and its plugins.
    # Prefix alone would do; Plugins is spelled out so nothing depends on Qt's default layout.
    printf '[Paths]\nPrefix=..\nPlugins=plugins\nLibraries=lib\n' >"$dest/libexec/qt.conf"

    local glibc
    glibc="$(portable_max_version "$dest" GLIBC)"
    [ -n "$glibc" ] || { echo "portable: cannot read the glibc version the tree needs" >&2; return 1; }
    sed "s/@GLIBC_REQUIRED@/$glibc/" "${PORTABLE_SOURCE:-$ROOT}/installer/portable/429chain.sh" >"$dest/bin/429chain"
    chmod 0755 "$dest/bin/429chain"
}
