-- A batch profile in a few lines: every model of the job profiled on needle prompts at
-- each length, one unit per length in the store (so a resumed batch skips the lengths
-- done), and the top retrieval heads of each length in retrieval_heads.csv.
--   attnscope-cli batch lua.run --param script=plugins/lua/examples/batch_profile.lua \
--       --param args=lengths=512:1024:2048 [--model DIR ...] --db runs.db --out out
local lengths = {}
for n in (arg.lengths or "512:1024"):gmatch("%d+") do lengths[#lengths + 1] = tonumber(n) end

local csv = {"model,length,rank,layer,head,retrieval_score"}
for m, path in ipairs(attnscope.models()) do
  local model = attnscope.load_model(path)
  local run = attnscope.store.begin_run(model)
  for i, length in ipairs(lengths) do
    attnscope.progress(((m - 1) * #lengths + i - 1) / (#attnscope.models() * #lengths), path .. ": " .. length .. " tokens")
    if not run:done(i) then
      local result = attnscope.profile(model, {tasks = "needle", lengths = length, metrics = "retrieval_score,sink_mass"})
      run:commit{ordinal = i, task = "needle", parameters = {length = length}, outcome = result.summary, values = result}
    end
    local stored = attnscope.store.read(run:id(), i)
    for rank, h in ipairs(attnscope.top_heads(stored, "retrieval_score", 3)) do
      csv[#csv + 1] = string.format("%s,%d,%d,%d,%d,%.4f", path, length, rank, h.layer, h.head, h.value)
    end
  end
  model:release()
end
attnscope.write_file("retrieval_heads.csv", table.concat(csv, "\n") .. "\n")
