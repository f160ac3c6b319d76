#!/bin/sh
# 429chain, portable Linux x86-64 build: checks that this system's C library is new enough for the bundled
# program and its libraries, then replaces itself with the program (exec: no shell stays running beside it).
# scripts/package --portable writes the glibc version the tree needs (the highest GLIBC_ symbol version of its
# files) in place of the placeholder below.
need=@GLIBC_REQUIRED@

self=$(readlink -f "$0" 2>/dev/null) || self=$0
root=${self%/*}/..

have=$(getconf GNU_LIBC_VERSION 2>/dev/null) && have=${have#glibc }
case $have in
    [0-9]*.[0-9]*) ;;
    *) have=$(ldd --version 2>/dev/null | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p') ;;
esac

too_old() {
    # true when version $1 is lower than $2 (both MAJOR.MINOR)
    a=${1%%.*} b=${1#*.} c=${2%%.*} d=${2#*.}
    b=${b%%.*} d=${d%%.*}
    [ "$a" -lt "$c" ] || { [ "$a" -eq "$c" ] && [ "$b" -lt "$d" ]; }
}

case $have in
    [0-9]*.[0-9]*)
        if too_old "$have" "$need"; then
            echo "429chain: this portable build needs glibc $need or newer; this system has glibc $have." >&2
            echo "Use the Docker image, or build from source (README.md: \"From source\";" >&2
            echo "with npm: CHAIN_BUILD_FROM_SOURCE=1 npm install -g 429chain)." >&2
            exit 1
        fi
        ;;
    *)
        echo "429chain: this portable build needs the GNU C library (glibc $need or newer), and this system's C library" >&2
        echo "could not be identified (getconf GNU_LIBC_VERSION failed: musl, as on Alpine?). Use the Docker image, or" >&2
        echo "build from source (README.md: \"From source\")." >&2
        exit 1
        ;;
esac

exec "$root/libexec/429chain" "$@"
