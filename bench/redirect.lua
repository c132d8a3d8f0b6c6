-- wrk script: GET /{code} for a code picked uniformly at random from KURZ_BENCH_CODES.
local codes = {}

init = function(args)
  for line in io.lines(os.getenv("KURZ_BENCH_CODES")) do
    if #line > 0 then codes[#codes + 1] = "/" .. line end
  end
  math.randomseed(os.time())
end

request = function()
  return wrk.format("GET", codes[math.random(1, #codes)])
end
