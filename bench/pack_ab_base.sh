#!/usr/bin/env bash
# Packs the source tree of a commit into .ab/ (git-ignored) as the "base" side of an A/B
# run on the GPU machine (bench/ab_gpu_bench.sh builds it beside the working tree and
# runs the same benchmark on both, alternating). Run here, then carry .ab with .deps.
#
#   bash bench/pack_ab_base.sh [REV]     (default: HEAD, i.e. the working tree's changes
#                                         against their last commit)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
commit=$(git rev-parse --verify "$rev^{commit}")
mkdir -p .ab
git archive --format=tar "$commit" | gzip -1 >.ab/base.tar.gz
echo "$commit" >.ab/base.rev
echo "pack_ab_base.sh: .ab/base.tar.gz is $(git log -1 --format='%h %s' "$commit" | cut -c1-100)" \
  "($(du -k .ab/base.tar.gz | cut -f1) KB)"
