-- Hits spread uniformly over a prefilled cache of BENCH_ENTRIES answers
-- (bodies "prefill 1" .. "prefill N", as bench/tools/prefill.py stores them).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local entries = tonumber(os.getenv("BENCH_ENTRIES") or "1000")

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return wrk.format(nil, nil, nil, chat_body("prefill " .. math.random(1, entries)))
end
