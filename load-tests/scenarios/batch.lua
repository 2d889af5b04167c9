-- POST /v1/touches/batch with 100 touches per request, drawn from the same mix as touches.lua.
local per_batch = tonumber(os.getenv("INGEST_BATCH_SIZE") or "100")
local batches = {}
local n = 0

local sources = {
  {"google", "cpc", "brand_search_2026q4", "gclid"},
  {"facebook", "paid_social", "retargeting_demo", "fbclid"},
  {"newsletter", "email", "nov_product_update", nil},
  {"bing", "cpc", "competitor_terms", "msclkid"},
}

local function touch(i)
  local s = sources[(i % #sources) + 1]
  local page = "https://www.example.com/pricing?utm_source=" .. s[1] .. "&utm_medium=" .. s[2] .. "&utm_campaign=" .. s[3]
  if s[4] then page = page .. "&" .. s[4] .. "=Cj0KCQiA" .. i .. "xYz" end
  return '{"kind":"form","occurred_at":"2026-11-21T10:15:00Z","anonymous_id":"anon-' .. i .. '-' .. math.random(1, 1000000) .. '"'
    .. ',"email":"lead.' .. (i % 5000) .. '@example.com","page_url":"' .. page .. '"'
    .. ',"referrer":"https://www.' .. s[1] .. '.com/","properties":{"form_id":"demo","company":"Acme ' .. i .. '"}}'
end

function init(args)
  math.randomseed(os.time())
  for b = 1, 20 do
    local items = {}
    for j = 1, per_batch do items[j] = touch(b * per_batch + j) end
    batches[b] = '{"touches":[' .. table.concat(items, ",") .. ']}'
  end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("INGEST_WRITE_KEY") or "dev-write-key")

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, batches[(n % #batches) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d duration_us=%d batch=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration, per_batch))
end
