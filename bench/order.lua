-- wrk script: POST /api/v1/orders with a 3-line order of distinct random SKUs out of 10,000,
-- quantities 1..3, and a fresh Idempotency-Key per request (as a shop's connector sends).
-- Environment: BENCH_TOKEN (the API token), BENCH_SKUS (default 10000).
-- done() prints one JSON line "BENCH_JSON {...}" for bench/run.py.

local token = os.getenv("BENCH_TOKEN")
local nskus = tonumber(os.getenv("BENCH_SKUS") or "10000")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local headers = {
  ["Content-Type"] = "application/json",
  ["Accept-Language"] = "en",
  ["Authorization"] = "Bearer " .. (token or ""),
}

function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
end

local head = '{"channel":"api","customer":{"name":"张伟","phone":"13800138000",' ..
  '"email":"zhang.wei@example.com"},"shipping_address":{"recipient":"张伟",' ..
  '"phone":"13800138000","province":"上海市","city":"上海市","district":"浦东新区",' ..
  '"street":"世纪大道 100 号","postcode":"200120"},"payment_method":"alipay","lines":['
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())

local function sku()
  return string.format("SKU-%05d", math.random(1, nskus))
end

function request()
  local a, b, c = sku(), sku(), sku()
  while b == a do b = sku() end
  while c == a or c == b do c = sku() end
  counter = counter + 1
  local body = head ..
    '{"sku":"' .. a .. '","quantity":' .. math.random(1, 3) .. '},' ..
    '{"sku":"' .. b .. '","quantity":' .. math.random(1, 3) .. '},' ..
    '{"sku":"' .. c .. '","quantity":' .. math.random(1, 3) .. '}]}'
  headers["Idempotency-Key"] = run_id .. "-" .. (tid or 0) .. "-" .. counter
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,' ..
    '"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"mean":%.1f,"p50":%d,' ..
    '"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
