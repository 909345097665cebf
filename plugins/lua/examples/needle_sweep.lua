-- A needle-in-a-haystack sweep: every (length, depth) cell answered by the first model,
-- each cell a unit of the run, and needle_sweep.csv with the answer, whether it counts
-- and the cell's best retrieval head (Retrieval_Head's score; the needle-sweep plugin
-- draws the same grid as a heatmap).
--   attnscope-cli batch lua.run --param script=plugins/lua/examples/needle_sweep.lua \
--       --param args=lengths=256:512:1024,depths=0:0.5:1 --db runs.db --out out
local function numbers(text)
  local list = {}
  for n in text:gmatch("[%d.]+") do list[#list + 1] = tonumber(n) end
  return list
end
local lengths = numbers(arg.lengths or "256:512:1024")
local depths = numbers(arg.depths or "0:0.5:1")

local model = attnscope.load_model()
local run = attnscope.store.begin_run(model)
local rows = {"length,depth,correct,response,top_head,top_score"}
local cell, cells, correct = 0, #lengths * #depths, 0
for _, length in ipairs(lengths) do
  for _, depth in ipairs(depths) do
    cell = cell + 1
    if attnscope.cancelled() then error("cancelled") end
    attnscope.progress((cell - 1) / cells, string.format("%d tokens, depth %g", length, depth))
    if not run:done(cell) then
      local r = attnscope.profile(model, {tasks = "needle", lengths = length, depths = depth, metrics = "retrieval_score"})
      run:commit{ordinal = cell, task = "needle", parameters = {length = length, depth = depth},
                 outcome = r.summary.units[1].outcome, values = r}
    end
    local stored = attnscope.store.read(run:id(), cell)
    local outcome = stored.summary.outcome
    local top = attnscope.top_heads(stored, "retrieval_score", 1)[1]
    if outcome.correct then correct = correct + 1 end
    rows[#rows + 1] = string.format("%d,%g,%s,%q,%s,%s", length, depth, tostring(outcome.correct),
                                    outcome.response:gsub("\n", " "), top and (top.layer .. "-" .. top.head) or "",
                                    top and string.format("%.4f", top.value) or "")
  end
end
attnscope.write_file("needle_sweep.csv", table.concat(rows, "\n") .. "\n")
attnscope.log(string.format("%d of %d cells answered correctly", correct, cells))
