#!/usr/bin/env bash
# End to end: starts attnscope under Xvfb on the bundled sample model, runs a 1,900-token
# passkey prompt (exact rows kept only below 512, so zooming into the end makes the
# engine recompute them), saves screenshots of the main views, then tours the rest: a
# generated task, the mask lab (a plan evaluated, its mask on the map, curves of four
# families, its budget sliders for streaming, snapkv and duo with a head of its own mask
# flagged on the overview), two small profile jobs into a throwaway store (the profiles table, the stored
# run's grid and map), the history comparing them and the example plugin's job from the
# Plugins menu (its form, its progress, its end). Checks every screenshot: readable,
# the size its widget had, the window the size asked for, not blank, none missing.
# Usage: screenshot_test.sh ATTNSCOPE PNG_CHECK SAMPLE_DATA OUT_DIR. Exit 77: no Xvfb (skipped).
set -euo pipefail
app=$1 check=$2 samples=$3 out=$4

command -v xvfb-run >/dev/null || { echo "xvfb-run not found (Debian package xvfb): skipped"; exit 77; }

rm -rf "$out"
mkdir -p "$out/shots" "$out/config"
prompt="$out/passkey_prompt.txt"
{
  head -c 4200 "$samples/prompts/haystack.txt"
  printf ' The pass key is 58319. Remember it. 58319 is the pass key. '
  tail -c 1200 "$samples/prompts/haystack.txt"
  printf '\nWhat is the pass key? The pass key is'
} > "$prompt"

# Settings and the store go to throwaway folders: the test neither reads nor changes the user's.
export XDG_CONFIG_HOME="$out/config" XDG_DATA_HOME="$out/data"
timeout 560 xvfb-run -a -s "-screen 0 1600x1200x24" \
  "$app" --fresh --device cpu --model "$samples/sample-llama" --size 1400x900 --db "$out/data/store.db" \
  --run-prompt-file "$prompt" --generate 8 --exact-limit 512 --head 7,2 --screenshot "$out/shots"

"$check" "$out/shots" 1400 900
for name in main_window map_whole map_last_tokens overview model prompt tokens_from_query tokens_received \
            prompt_task map_mask map_mask_zoom main_window_masks overview_mask_recall mask_lab \
            mask_sliders_streaming overview_own_masks mask_sliders_snapkv mask_sliders_duo map_stored overview_stored \
            profiles overview_compare history plugin_form plugin_progress plugin_done main_window_plugin; do
  grep -q "^$name.png " "$out/shots/screenshots.txt" || { echo "screenshot $name is missing"; exit 1; }
done
