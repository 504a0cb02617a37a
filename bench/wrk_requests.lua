-- wrk script for bench_survey.py: send the requests listed in a file, count the replies.
--
--   wrk -t N -c N -d SECONDS -s wrk_requests.lua URL -- FILE N EXPECTED CYCLE
--
-- FILE holds one request a line: METHOD <tab> PATH <tab> BODY (form-encoded, may be empty).
-- Thread i of N sends lines i, i+N, i+2N, ...; with CYCLE "1" it starts over at the end (page
-- views), else it stops and says so (each invitation is answered once: the run needs more).
-- Replies with status EXPECTED count as ok, others as other. done() prints one line,
-- "WRK-JSON {...}", that bench_survey.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local next_index = 1
local expected = 200
local cycle = false

function init(args)
  local file, n = args[1], tonumber(args[2])
  expected = tonumber(args[3])
  cycle = args[4] == "1"
  ok, other, ran_out = 0, 0, 0
  local headers = {
    ["Accept-Language"] = "zh-CN,zh;q=0.9",
    ["User-Agent"] = "feedback-bench",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  -- bench_survey.py --accept-encoding: the page views ask for a compressed body (gzip).
  local get_headers = {
    ["Accept-Language"] = headers["Accept-Language"], ["User-Agent"] = headers["User-Agent"],
    ["Accept-Encoding"] = os.getenv("BENCH_ACCEPT_ENCODING"),
  }
  local i = 0
  for line in io.lines(file) do
    if i % n == id then
      local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      if body == "" then body = nil end
      table.insert(requests, wrk.format(method, path, body and headers or get_headers, body))
    end
    i = i + 1
  end
end

function request()
  if next_index > #requests then
    if cycle then
      next_index = 1
    else
      ran_out = 1
      wrk.thread:stop()
      return requests[#requests]
    end
  end
  local r = requests[next_index]
  next_index = next_index + 1
  return r
end

function response(status, headers, body)
  if status == expected then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local ok_all, other_all, ran_out_all = 0, 0, 0
  for _, t in ipairs(threads) do
    ok_all = ok_all + t:get("ok")
    other_all = other_all + t:get("other")
    ran_out_all = ran_out_all + t:get("ran_out")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"ok": %d, "other": %d, "threads_out_of_requests": %d, "duration_us": %d, ' ..
    '"requests": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    ok_all, other_all, ran_out_all, summary.duration, summary.requests, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
