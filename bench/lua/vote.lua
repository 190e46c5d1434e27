-- POST a vote for a random choice: wrk ... -s vote.lua URL -- QUESTIONS CHOICES_EACH [TOKEN]
-- The benchmark's data gives question q the choices (q-1)*CHOICES_EACH+1 .. q*CHOICES_EACH.
-- The seed is fixed, so every server counts the same votes in the same order.
local questions, choices_each, headers

function init(args)
  questions = tonumber(args[1])
  choices_each = tonumber(args[2])
  headers = {}
  if args[3] and args[3] ~= "" then
    headers["Authorization"] = "Bearer " .. args[3]
  end
  math.randomseed(tonumber(args[4] or "20240501"))
end

function request()
  local q = math.random(questions)
  local c = (q - 1) * choices_each + math.random(choices_each)
  local path = string.format("/api/questions/%d/choices/%d/vote", q, c)
  -- An empty body, so wrk sends Content-Length: 0.
  return wrk.format("POST", path, headers, "")
end
