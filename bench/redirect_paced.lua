-- wrk script: redirect.lua (GET /{code} for a random code of KURZ_BENCH_CODES, browser-like
-- headers) paced with wrk's delay() hook: each connection waits KURZ_BENCH_DELAY_MS (may be
-- fractional: the whole part always, one more millisecond with the fraction's probability, as
-- wrk's timers count whole milliseconds) before each request. -c C connections then give about
-- C / (delay + response time) requests per second in total; bench/pipeline.py measures the rate
-- reached and adjusts the delay.
local codes = {}
local agents = {
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
}
local referrers = { "https://t.co/", "https://www.google.com/", "https://news.ycombinator.com/item?id=1", nil }
local headers = {}

init = function(args)
  for line in io.lines(os.getenv("KURZ_BENCH_CODES")) do
    if #line > 0 then codes[#codes + 1] = "/" .. line end
  end
  math.randomseed(os.time())
end

request = function()
  headers["User-Agent"] = agents[math.random(1, #agents)]
  headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
  headers["Accept-Language"] = "en-US,en;q=0.9"
  headers["Referer"] = referrers[math.random(1, 4)]
  return wrk.format("GET", codes[math.random(1, #codes)], headers)
end

local delay_ms = tonumber(os.getenv("KURZ_BENCH_DELAY_MS") or "2")
local whole = math.floor(delay_ms)
local fraction = delay_ms - whole

delay = function()
  if fraction > 0 and math.random() < fraction then return whole + 1 end
  return whole
end
