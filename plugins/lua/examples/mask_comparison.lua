-- Mask families compared on one passkey prompt at one budget: each family's recall,
-- output error and end-to-end KL / top-1 agreement against full attention, one unit per
-- family, and mask_comparison.json with the summaries (the dense run is recorded once).
--   attnscope-cli batch lua.run --param script=plugins/lua/examples/mask_comparison.lua \
--       --param args=density=0.1,length=1024 --db runs.db --out out
local density = tonumber(arg.density or "0.1")
local length = tonumber(arg.length or "1024")
local families = {"streaming", "window", "topk", "block_topk", "vertical_slash"}

local model = attnscope.load_model()
local prompt = attnscope.task(model, {kind = "passkey", length = length, depth = 0.5, seed = 1})
local run = attnscope.store.begin_run(model)
local report = {prompt = prompt:info().description, density = density, families = {}}
for i, family in ipairs(families) do
  attnscope.progress((i - 1) / #families, family)
  if not run:done(i) then
    local r = attnscope.evaluate_masks(model, prompt, {method = family, density = density, end_to_end = true})
    run:commit{ordinal = i, task = "masks", parameters = {family = family, density = density},
               outcome = r.summary, prompt = prompt, values = r}
  end
  local s = attnscope.store.read(run:id(), i).summary.outcome
  report.families[family] = s
  attnscope.log(string.format("%-15s density %.3f recall %.3f KL %.4f top-1 %.3f", family, s.density, s.recall,
                              s.kl_mean, s.top1_agreement))
end
attnscope.write_file("mask_comparison.json", attnscope.json_encode(report, 2))
