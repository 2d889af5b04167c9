-- A realistic mix of single touches (website forms with UTMs, call-tracking calls, ad-platform leads), 400-800 bytes.
-- Bodies are built once per thread in init() and cycled, so wrk spends its time sending, not formatting.
local bodies = {}
local n = 0

local sources = {
  {"google", "cpc", "brand_search_2026q4", "gclid"},
  {"facebook", "paid_social", "retargeting_demo", "fbclid"},
  {"linkedin", "paid_social", "abm_enterprise", "li_fat_id"},
  {"newsletter", "email", "nov_product_update", nil},
  {"bing", "cpc", "competitor_terms", "msclkid"},
  {"chatgpt.com", "referral", nil, nil},
}

local function touch(i)
  local s = sources[(i % #sources) + 1]
  local kind = (i % 10 < 6) and "form" or ((i % 10 < 8) and "call" or "ad")
  local page = "https://www.example.com/pricing?utm_source=" .. s[1] .. "&utm_medium=" .. s[2]
  if s[3] then page = page .. "&utm_campaign=" .. s[3] end
  if s[4] then page = page .. "&" .. s[4] .. "=Cj0KCQiA" .. i .. "xYzAbC_dEf-ghIJ" end
  local body = '{"kind":"' .. kind .. '","occurred_at":"2026-11-2' .. (i % 3) .. 'T1' .. (i % 10) .. ':15:00Z"'
    .. ',"anonymous_id":"anon-' .. i .. '-' .. math.random(1, 1000000) .. '"'
  if kind ~= "call" then body = body .. ',"email":"Lead.' .. (i % 5000) .. '@Example.com"' end
  if kind ~= "form" or i % 3 == 0 then body = body .. ',"phone":"+1 415 555 ' .. string.format("%04d", i % 10000) .. '"' end
  body = body .. ',"page_url":"' .. page .. '"'
    .. ',"referrer":"https://www.' .. s[1] .. '/search?q=lead+tracking"'
    .. ',"consent":{"analytics":true,"ads":' .. ((i % 2 == 0) and "true" or "false") .. '}'
    .. ',"properties":{"form_id":"demo-request","company":"Acme ' .. i .. ' Inc","employees":"51-200","plan":"enterprise"}}'
  return body
end

function init(args)
  math.randomseed(os.time() + (tonumber(args[1]) or 0))
  for i = 1, 1000 do bodies[i] = touch(i) end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("INGEST_WRITE_KEY") or "dev-write-key")

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d duration_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration))
end
