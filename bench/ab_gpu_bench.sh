#!/usr/bin/env bash
# A/B on the GPU machine in one call: builds the working tree ("new", build-gpu) and the
# commit packed by bench/pack_ab_base.sh ("base", /tmp/ab-base/build) with the same
# options, then runs one benchmark command on both, alternating new, base, new, base ...
# so that the GPU's drift (power cap, clocks) falls on both sides alike. Each run's output
# is labelled; compare the tables (docs/benchmarks.md has examples).
#
#   device run, carry [".deps", ".ab"]:
#     bash bench/ab_gpu_bench.sh [--rounds N] [--sass PATTERN] TARGET[,TARGET...] 'COMMAND'
#   e.g. bash bench/ab_gpu_bench.sh attention_bench \
#          '$BUILD/bench/attention_bench --lengths 4096,16384,32768 --reps 20'
#
# COMMAND runs under bash with BUILD set to the side's build folder; TARGETs are ninja
# targets (bench/attention_bench, tests/gpu/test_gpu, ...; a bare name is looked up under
# bench/). --rounds: runs per side (default 2). --sass PATTERN: before the runs, the static
# SASS instruction counts of the kernels matching PATTERN in the first target's binary,
# new beside base (bench/sass_histogram.py). Build logs and listings go under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/ab_gpu_bench}
rounds=2 sass=""
while [[ ${1:-} == --* ]]; do
  case $1 in
    --rounds) rounds=$2 ;;
    --sass) sass=$2 ;;
    *) echo "ab_gpu_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
targets=${1:?usage: bench/ab_gpu_bench.sh [--rounds N] TARGET[,TARGET...] COMMAND}
command=${2:?usage: bench/ab_gpu_bench.sh [--rounds N] TARGET[,TARGET...] COMMAND}
[[ -f .ab/base.tar.gz ]] || { echo "ab_gpu_bench.sh: no .ab/base.tar.gz: run bench/pack_ab_base.sh and carry .ab" >&2; exit 2; }
mkdir -p "$out"

source scripts/gpu_sysroot.sh
unpack_gpu_sysroot /tmp/sys ab_gpu_bench.sh || exit 2

base=/tmp/ab-base
rm -rf "$base"
mkdir -p "$base/src"
tar -C "$base/src" -xzf .ab/base.tar.gz || exit 3
echo "new:  this tree; base: $(cat .ab/base.rev 2>/dev/null || echo unknown)"

options=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNSCOPE_SYSROOT_PREFIX=/tmp/sys -DATTNSCOPE_GUI=OFF
         -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF -DATTNSCOPE_CUDA_ARCHITECTURES=90-real)
ninja_targets=()
IFS=, read -r -a names <<<"$targets"
for name in "${names[@]}"; do
  [[ $name == */* ]] && ninja_targets+=("$name") || ninja_targets+=("bench/$name")
done

# build SIDE SOURCE BUILD: configure and build the targets, half the cores each (the two
# sides build at once).
build() {
  local side=$1 source=$2 dir=$3 jobs=$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))
  { cmake -S "$source" -B "$dir" "${options[@]}" && ninja -C "$dir" -j "$jobs" "${ninja_targets[@]}"; } \
    >"$out/build-$side.log" 2>&1 || { echo "ab_gpu_bench.sh: the $side build failed:"; grep -m 20 -A 8 "error" "$out/build-$side.log"; return 1; }
}
start=$SECONDS
build new . build-gpu & new_pid=$!
build base "$base/src" "$base/build" & base_pid=$!
wait "$new_pid" || exit 4
wait "$base_pid" || exit 4
echo "builds: $((SECONDS - start)) s"

if [[ -n $sass ]]; then
  for side in new base; do
    dir=$PWD/build-gpu
    [[ $side == base ]] && dir=$base/build
    cuobjdump -sass "$dir/${ninja_targets[0]}" >"$out/sass-$side.txt" 2>&1
  done
  python3 bench/sass_histogram.py "$sass" "$out/sass-new.txt" "$out/sass-base.txt"
fi

for ((round = 1; round <= rounds; ++round)); do
  for side in new base; do
    dir=$PWD/build-gpu
    [[ $side == base ]] && dir=$base/build
    echo "== $side, round $round"
    BUILD=$dir bash -c "$command" 2>&1 || echo "(exit status $?)"
  done
done
