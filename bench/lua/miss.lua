-- A body never sent before on every request: every answer is a cache miss.
-- Bodies differ by a per-run nonce, the thread number and a counter.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local counter = 0
local prefix

function init(args)
  prefix = "miss " .. nonce .. " " .. tostring(thread_number) .. " "
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, chat_body(prefix .. counter))
end
