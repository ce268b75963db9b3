-- wrk script for the township benchmark (wrk 4.x, LuaJIT).
--
-- Environment:
--   BENCH_MODE     get | post      (default get)
--   BENCH_PATHS    file with one request path per line, cycled (default: the URL's path)
--   BENCH_TOKEN    bearer token (optional)
--   BENCH_BODY     file with the JSON body of a POST
--   BENCH_IDEM     "1": a unique Idempotency-Key per request
--   BENCH_RATE     total requests/s to pace at (open-loop schedule per thread; 0 = max)
--   BENCH_THREADS  wrk's -t (to split the rate)
-- done() prints one line "BENCH_JSON {...}" that bench/loadgen.py parses.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local mode = os.getenv("BENCH_MODE") or "get"
local token = os.getenv("BENCH_TOKEN")
local idem = os.getenv("BENCH_IDEM") == "1"
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1

local function read_lines(path)
  local lines = {}
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then lines[#lines + 1] = line end
    end
  end
  return lines
end

local function read_file(path)
  if not path or path == "" then return nil end
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local counter = 1
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local paths, body, headers, i, n, interval, next_slot, prefix

function init(args)
  paths = read_lines(os.getenv("BENCH_PATHS"))
  body = read_file(os.getenv("BENCH_BODY"))
  headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if body then headers["Content-Type"] = "application/json" end
  i = 0
  n = 0
  math.randomseed(os.time() + (tid or 0))
  prefix = string.format("bench-%d-%d-%d", os.time(), tid or 0, math.random(1, 1e9))
  if rate > 0 then interval = 1000.0 * nthreads / rate end
  next_slot = 0
end

function request()
  i = i + 1
  local path = wrk.path
  if #paths > 0 then path = paths[(i - 1) % #paths + 1] end
  if idem then headers["Idempotency-Key"] = prefix .. "-" .. i end
  if mode == "post" then
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path, headers)
end

if rate > 0 then
  function delay()
    local t = now_ms()
    if next_slot < t then next_slot = t end
    local wait = next_slot - t
    next_slot = next_slot + interval
    return wait
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    p[#p + 1] = string.format('"p%s": %.3f', tostring(q):gsub("%.", "_"), latency:percentile(q) / 1000.0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_s": %.6f, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_ms": {"mean": %.3f, "max": %.3f, %s}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1000.0, latency.max / 1000.0, table.concat(p, ", ")))
end
