-- The same body on every request: after the first, every answer is a cache hit.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

wrk.body = chat_body("Say hello to the benchmark.")
