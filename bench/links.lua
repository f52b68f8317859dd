-- wrk script for FileShare Plus benchmarks (bench/run drives it; see bench/README in README.md).
--
--   BENCH_PATHS   file with one request path per line ("/Ab3dE9xQ"); each request picks one at
--                 random (a different random stream per thread)
--   BENCH_SECONDS the run's length (wrk -d); BENCH_TAIL seconds before its end (default 0.5)
--                 every connection switches to BENCH_TAIL_PATH (default "/~tail", a path that is
--                 no short link: 404 and never counted), so no counted request is still in
--                 flight when wrk stops and closes its connections. The 302s this script
--                 counts are then exactly the clicks the server must have stored.
--   BENCH_METHOD  GET (default) or HEAD
--   BENCH_BODIES  "no": do not look at responses (large files), see below
--
-- At the end it prints one line "BENCH_JSON {...}" with wrk's summary, latency percentiles
-- (microseconds) and the status counts seen by the script.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now()
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	table.insert(threads, thread)
end

local paths, reqs, tail_req
local switch_at
-- globals: done() reads them from each thread with thread:get()
s302, s2xx, s404, sother, tail_sent = 0, 0, 0, 0, 0
local in_tail = false

function init(args)
	local file = os.getenv("BENCH_PATHS")
	local method = os.getenv("BENCH_METHOD") or "GET"
	paths, reqs = {}, {}
	for line in io.lines(file) do
		if #line > 0 then
			table.insert(paths, line)
			table.insert(reqs, wrk.format(method, line))
		end
	end
	tail_req = wrk.format(method, os.getenv("BENCH_TAIL_PATH") or "/~tail")
	math.randomseed(tonumber(id) * 7919 + math.floor(now() * 1000) % 100000)
	local secs = tonumber(os.getenv("BENCH_SECONDS") or "0")
	local tail = tonumber(os.getenv("BENCH_TAIL") or "0.5")
	if secs > 0 and tail > 0 then
		switch_at = now() + secs - tail
	end
end

function request()
	if switch_at ~= nil and not in_tail and now() >= switch_at then
		in_tail = true
	end
	if in_tail then
		tail_sent = tail_sent + 1
		return tail_req
	end
	return reqs[math.random(#reqs)]
end

-- With a response() function wrk keeps every body for it, which makes it the bottleneck on
-- large files: BENCH_BODIES=no leaves it out, and the statuses come from wrk's own counts.
counting = os.getenv("BENCH_BODIES") ~= "no"
if counting then
	function response(status, headers, body)
		if status == 302 then
			s302 = s302 + 1
		elseif status == 404 then
			s404 = s404 + 1
		elseif status >= 200 and status < 300 then
			s2xx = s2xx + 1
		else
			sother = sother + 1
		end
	end
end

function done(summary, latency, requests)
	local t = { s302 = 0, s2xx = 0, s404 = 0, sother = 0, tail_sent = 0 }
	for _, thread in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + (tonumber(thread:get(k)) or 0)
		end
	end
	local e = summary.errors
	if not counting then
		-- wrk counts statuses >= 400 as errors.status; everything else is taken as a 2xx
		t.s2xx, t.sother = summary.requests - e.status, e.status
	end
	io.write(string.format(
	    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
	    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
	    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
	    '"status":{"302":%d,"2xx":%d,"404":%d,"other":%d},"tail_sent":%d}\n',
	    summary.duration, summary.requests, summary.bytes,
	    e.connect, e.read, e.write, e.status, e.timeout,
	    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency:percentile(99.9),
	    t.s302, t.s2xx, t.s404, t.sother, t.tail_sent))
end
