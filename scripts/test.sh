#!/usr/bin/env bash
# Sets up (Debian packages), builds with warnings as errors, fetches the test data and
# runs every test through ctest. GPU tests report themselves as skipped without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
# GUI=ON: setup.sh installed everything the desktop app needs, so a GUI that cannot be
# configured is a setup bug to fail on, not a reason to skip its tests.
ATTNSCOPE_CMAKE_ARGS="-DATTNSCOPE_WERROR=ON -DATTNSCOPE_GUI=ON ${ATTNSCOPE_CMAKE_ARGS:-}" bash scripts/setup.sh
bash scripts/fetch_test_data.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 900
