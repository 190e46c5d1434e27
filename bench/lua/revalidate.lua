-- GET one path again and again as a caching client does: each request sends
-- the ETag of the answer before it in If-None-Match, so the server answers 304.
-- wrk ... -s revalidate.lua URL -- /api/todos/?limit=20
local path, tag

function init(args)
  path = args[1]
end

function request()
  if tag then
    return wrk.format("GET", path, { ["If-None-Match"] = tag })
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  tag = headers["ETag"] or headers["Etag"] or tag
end
