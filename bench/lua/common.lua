-- Loaded by each wrk script: the request line shared by all runs and the report.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(dir .. "report.lua")

done = report.done

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"

-- A chat request as an OpenAI SDK sends it, with `content` varying per run.
-- Keys are in sorted order and there is no whitespace, so the body is already
-- the canonical JSON Sluice hashes (bench/tools/prefill.py relies on that).
function chat_body(content)
  return '{"messages":[{"content":"' .. content .. '","role":"user"}],"model":"bench/model"}'
end
