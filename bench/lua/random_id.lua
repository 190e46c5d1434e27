-- GET a path with a random id: wrk ... -s random_id.lua URL -- /api/todos/%d 10000
-- The seed is fixed, so every server is asked for the same ids in the same order.
local template, count

function init(args)
  template = args[1]
  count = tonumber(args[2])
  math.randomseed(tonumber(args[3] or "20240501"))
end

function request()
  return wrk.format("GET", string.format(template, math.random(count)))
end
