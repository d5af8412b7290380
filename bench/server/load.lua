-- wrk script: POSTs the OpenAI bodies of wrk_bodies.lua round-robin and counts statuses.
-- usage: BODIES=path/wrk_bodies.lua wrk -t2 -c64 -d60s --latency -s load.lua http://127.0.0.1:PORT
local bodies = dofile(os.getenv("BODIES"))
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  next_body = math.random(#bodies)
  statuses = {}
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/v1/embeddings", {["Content-Type"] = "application/json"}, bodies[next_body])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do table.insert(parts, string.format('"%d": %d', status, count)) end
  io.write(string.format('{"statuses": {%s}, "requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "socket_errors": %d, "timeouts": %d}\n',
    table.concat(parts, ", "), summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
