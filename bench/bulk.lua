-- wrk script: GET /{code} for one of the KURZ_BENCH_BULK links that bench/run.py --bulk wrote
-- straight into the database, code "b" + 7 base62 digits of a uniformly random index.
local n = tonumber(os.getenv("KURZ_BENCH_BULK"))
local digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

local function code(i)
  local out = {}
  for k = 7, 1, -1 do
    local d = i % 62
    out[k] = digits:sub(d + 1, d + 1)
    i = (i - d) / 62
  end
  return "/b" .. table.concat(out)
end

init = function(args)
  math.randomseed(os.time())
end

request = function()
  return wrk.format("GET", code(math.random(0, n - 1)))
end
