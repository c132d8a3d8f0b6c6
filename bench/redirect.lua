-- wrk script: GET /{code} for a code picked uniformly at random from KURZ_BENCH_CODES, with the
-- headers a browser sends (User-Agent, Accept, Accept-Language, and a Referer on most), drawn
-- from a small mix, so that the click pipeline parses and aggregates what it would in life.
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

-- Pacing (bench/pipeline.py): with KURZ_BENCH_DELAY_MS set, each connection waits that long
-- before each request through wrk's delay() hook, so -c C connections give about
-- C / (delay + response time) requests per second. The delay may be fractional: the whole part
-- always, one more millisecond with the fraction's probability (wrk's timers count whole ms).
local pace = tonumber(os.getenv("KURZ_BENCH_DELAY_MS") or "")
if pace then
  local whole = math.floor(pace)
  local fraction = pace - whole
  delay = function()
    if fraction > 0 and math.random() < fraction then return whole + 1 end
    return whole
  end
end
