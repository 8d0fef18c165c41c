-- The hit of hit.lua asked for as a stream: chat completions keep one entry
-- for both shapes, so every answer is the stored plain answer sent as
-- chat.completion.chunk events.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

wrk.body = chat_body("Say hello to the benchmark."):gsub("}$", ',"stream":true}')
