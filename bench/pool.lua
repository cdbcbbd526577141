-- wrk script: replays a pool of prepared requests in random order.
-- args: pool file, unique tag, delay in ms (0: none).
-- Pool lines: METHOD \t PATH \t HEADER\30HEADER... \t BODY ; "{N}" in the path or body is
-- replaced by a number unique to this run, for requests that must create new customers.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local requests = {}
local templates = {}
local tag = "x"
local counter = 0

local function split(line, separator)
  local parts = {}
  for part in (line .. separator):gmatch("(.-)" .. separator) do
    table.insert(parts, part)
  end
  return parts
end

local function parse(line)
  local fields = split(line, "\t")
  local headers = {}
  for _, header in ipairs(split(fields[3], "\30")) do
    local name, value = header:match("^([^:]+): (.*)$")
    if name then headers[name] = value end
  end
  return fields[1], fields[2], headers, fields[4]
end

function init(args)
  tag = args[2] .. "t" .. tostring(thread_id or 0) .. "n"
  math.randomseed(os.time() + (thread_id or 0) * 7919)
  for line in io.lines(args[1]) do
    local method, path, headers, body = parse(line)
    if body == "" then body = nil end
    if line:find("{N}", 1, true) then
      table.insert(templates, { method, path, headers, body })
    else
      table.insert(requests, wrk.format(method, path, headers, body))
    end
  end
end

function request()
  if #templates == 0 then
    return requests[math.random(#requests)]
  end
  counter = counter + 1
  local unique = tag .. counter
  local t = templates[math.random(#templates)]
  local body = t[4] and t[4]:gsub("{N}", unique) or nil
  return wrk.format(t[1], t[2]:gsub("{N}", unique), t[3], body)
end
