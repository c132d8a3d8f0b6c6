-- wrk script: POST /v1/urls with a unique URL per request (no deduplication hits).
local key = os.getenv("KURZ_BENCH_KEY")
local tag = os.getenv("KURZ_BENCH_TAG") or "run"
local counter = 0
local headers = {
  ["Authorization"] = "Bearer " .. key,
  ["Content-Type"] = "application/json",
}

request = function()
  counter = counter + 1
  local body = string.format('{"url":"https://example.com/bench/%s/%d/%d"}', tag,
                             math.random(1, 1000000000), counter)
  return wrk.format("POST", "/v1/urls", headers, body)
end
