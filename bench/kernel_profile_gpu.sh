#!/usr/bin/env bash
# Where a kernel's time goes, per SASS instruction, on the GPU machine: builds a benchmark,
# runs it under Nsight Compute for one launch of each kernel matching a pattern (full set:
# warp states, scheduler and pipe statistics, and the source counters with stall samples
# per instruction), and writes for each launch the report, its details page and the SASS
# listing with the samples as CSV (bench/sass_stalls.py sums those by instruction kind,
# stall reason and code region).
#
#   device run, carry [".deps"]:
#     bash bench/kernel_profile_gpu.sh TARGET KERNEL_REGEX[,REGEX...] 'COMMAND'
#   e.g. bash bench/kernel_profile_gpu.sh attention_bench \
#          'attention_capture_hopper_kernelILi128E13__nv_bfloat16Lb0' \
#          '$BUILD/bench/attention_bench --lengths 32768 --reps 1'
# COMMAND runs under bash with BUILD set to the build folder; clocks are left alone
# (--clock-control none, METHOD.md).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/kernel_profile}
target=${1:?usage: bench/kernel_profile_gpu.sh TARGET REGEX[,REGEX...] COMMAND}
regexes=${2:?usage: bench/kernel_profile_gpu.sh TARGET REGEX[,REGEX...] COMMAND}
command=${3:?usage: bench/kernel_profile_gpu.sh TARGET REGEX[,REGEX...] COMMAND}
[[ $target == */* ]] || target=bench/$target
mkdir -p "$out"

source scripts/gpu_sysroot.sh
unpack_gpu_sysroot /tmp/sys kernel_profile_gpu.sh || exit 2
export BUILD=build-gpu
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNSCOPE_SYSROOT_PREFIX=/tmp/sys -DATTNSCOPE_GUI=OFF \
  -DATTNSCOPE_CUDA=ON -DATTNSCOPE_WERROR=OFF -DATTNSCOPE_CUDA_ARCHITECTURES=90-real >"$out/configure.log" 2>&1 ||
  { tail -20 "$out/configure.log"; exit 1; }
ninja -C "$BUILD" -j16 "$target" >"$out/build.log" 2>&1 || { grep -m5 -A5 "error" "$out/build.log"; exit 1; }

IFS=, read -r -a patterns <<<"$regexes"
n=0
for pattern in "${patterns[@]}"; do
  n=$((n + 1))
  report=/tmp/kernel_profile_$n  # the .ncu-rep stays there (large); its pages come back
  echo "== $pattern"
  timeout 400 ncu --clock-control none --set full --import-source no --kernel-name-base mangled \
    -k "regex:$pattern" -c 1 -f -o "$report" bash -c "$command" >>"$out/ncu.log" 2>&1
  [[ -f $report.ncu-rep ]] || { echo "no launch matched $pattern"; tail -8 "$out/ncu.log"; continue; }
  ncu --import "$report.ncu-rep" --page details >"$out/profile_$n.details.txt" 2>&1
  ncu --import "$report.ncu-rep" --page source --print-source sass --csv 2>&1 | gzip >"$out/profile_$n.sass.csv.gz"
  grep -E "Duration|Issue Slots Busy|Warp Cycles Per Issued|Eligible Warps|Registers Per|Executed Ipc A" \
    "$out/profile_$n.details.txt" | head -12
  python3 bench/sass_stalls.py "$out/profile_$n.sass.csv.gz" | head -70
done
