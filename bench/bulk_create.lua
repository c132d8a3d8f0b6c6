-- wrk script: POST /v1/urls/bulk with KURZ_BENCH_BATCH unique URLs per request (no
-- deduplication hits), for bench/options.py's links-per-second comparison with create.lua.
local key = os.getenv("KURZ_BENCH_KEY")
local tag = os.getenv("KURZ_BENCH_TAG") or "bulk"
local batch = tonumber(os.getenv("KURZ_BENCH_BATCH") or "100")
local counter = 0
local headers = {
  ["Authorization"] = "Bearer " .. key,
  ["Content-Type"] = "application/json",
}

request = function()
  local items = {}
  local run = math.random(1, 1000000000)
  for i = 1, batch do
    counter = counter + 1
    items[i] = string.format('{"url":"https://example.com/bench/%s/%d/%d"}', tag, run, counter)
  end
  return wrk.format("POST", "/v1/urls/bulk", headers, '{"items":[' .. table.concat(items, ",") .. ']}')
end
