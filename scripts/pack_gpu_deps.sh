#!/usr/bin/env bash
# Run here (Debian 12): downloads the -dev packages the GPU machine lacks and writes
# .deps/sysroot.tar.xz, their files without static libraries and docs, which the GPU
# scripts unpack (scripts/gpu_sysroot.sh). .deps/ is git-ignored; carry it in device calls.
# libicu72 is there because Ubuntu's ICU has another soname.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(catch2 libsqlite3-dev libpcre2-dev libopenblas-dev libopenblas-openmp-dev
  libopenblas0-openmp libicu-dev libicu72 nlohmann-json3-dev zlib1g-dev)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}")
mkdir -p "$work/root" .deps
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
find "$work/root" -name '*.a' -delete
rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/lintian"
tar -C "$work/root" -cJf .deps/sysroot.tar.xz .
rm -f .deps/*.deb  # the tarball replaces them (both would be carried)
ls -l .deps/sysroot.tar.xz
