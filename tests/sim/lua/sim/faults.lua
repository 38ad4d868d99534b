-- Fault injection: per-route rules from the scenario (replaceable at run
-- time through /_sim/faults or a timeline `faults` action). A rule matches
-- on route name (glob), method, path (POSIX ERE) and list page, fires for
-- the first `count` matches after skipping `after`, and then answers with
-- a status (with the real service's error body), resets the connection,
-- adds latency or a slow body, meters requests with a token bucket, or
-- breaks a 200 answer: an HTML page or an empty body instead of JSON, the
-- route's real body truncated or padded past a client's size limit, or
-- changed (see M.mangle).
local simc = require "simc"
local json = require "sim.json"
local time = require "sim.time"
local util = require "sim.util"

local M = {}

local function init_rule(r, i)
  r.name = r.name or ("rule-" .. i)
  r.matched, r.fired = 0, 0
  if r.rate_limit then
    r.bucket = { tokens = r.rate_limit.burst, t = simc.monotonic_ms() }
  end
  return r
end

function M.build(W)
  W.faults = {}
  for i, r in ipairs(W.cfg.faults) do W.faults[i] = init_rule(r, i) end
end

function M.replace(W, rules)
  W.faults = {}
  for i, r in ipairs(rules) do W.faults[i] = init_rule(r, i) end
end

function M.run_action(W, a)
  if a.clear then W.faults = {} end
  local drop = util.lset(a.remove)
  local kept = {}
  for _, r in ipairs(W.faults) do
    if not drop[r.name:lower()] then kept[#kept + 1] = r end
  end
  W.faults = kept
  for _, r in ipairs(a.add) do W.faults[#W.faults + 1] = init_rule(r, #W.faults + 1) end
  local names = {}
  for _, r in ipairs(W.faults) do names[#names + 1] = r.name end
  return "faults now: " .. (#names > 0 and table.concat(names, ", ") or "(none)")
end

local function matches(r, ctx)
  if r.route and not util.glob_match(r.route, ctx.route) then return false end
  if r.method and r.method ~= ctx.method then return false end
  if r.path and not simc.re_match(r.path, ctx.path) then return false end
  if r.query and not simc.re_match(r.query, ctx.query or "") then return false end
  if r.page and r.page ~= ctx.page then return false end
  return true
end

-- Token bucket on real time: a client's own pacing is what it meters.
-- Returns nil when a token was taken, else seconds until one is available.
local function take_token(r)
  local b, rl = r.bucket, r.rate_limit
  local now = simc.monotonic_ms()
  local per_ms = rl.per_minute / 60000
  b.tokens = math.min(rl.burst, b.tokens + (now - b.t) * per_ms)
  b.t = now
  if b.tokens >= 1 then
    b.tokens = b.tokens - 1
    return nil
  end
  return math.max(1, math.ceil((1 - b.tokens) / per_ms / 1000))
end

-- ctx: route, method, path, page. Returns effects: latency_ms,
-- slow_body_ms, and terminal = {rule, status?, reset?, retry_after?} when a
-- rule answers instead of the route.
function M.evaluate(W, ctx)
  local eff = { latency_ms = W.cfg.latency_ms, slow_body_ms = 0, rules = {}, mangle = {} }
  for _, r in ipairs(W.faults) do
    if matches(r, ctx) then
      r.matched = r.matched + 1
      if r.matched > r.after and (r.count == nil or r.fired < r.count) then
        if r.rate_limit then
          local wait = take_token(r)
          if wait and not eff.terminal then
            r.fired = r.fired + 1
            eff.terminal = { rule = r, status = 429, retry_after = tostring(wait) }
            eff.rules[#eff.rules + 1] = r.name
          end
        else
          r.fired = r.fired + 1
          eff.rules[#eff.rules + 1] = r.name
          eff.latency_ms = eff.latency_ms + r.latency_ms
          eff.slow_body_ms = math.max(eff.slow_body_ms, r.slow_body_ms)
          if (r.status or r.reset or r.html or r.empty) and not eff.terminal then
            eff.terminal = { rule = r, status = r.status or 200, reset = r.reset }
          end
          if r.text_fault and not eff.text_fault then eff.text_fault = r end
          if r.mangle then eff.mangle[#eff.mangle + 1] = r end
        end
      end
    end
  end
  return eff
end

local function retry_after_value(spec)
  if not spec then return nil end
  if spec.seconds then return tostring(spec.seconds) end
  -- an HTTP-date is compared with the client's wall clock, not ours
  if spec.date_in then return time.http_date((os.time() + spec.date_in) * 1000) end
  return spec.literal
end

-- The error body each service family really sends for a status.
local ARM_ERRORS = {
  [500] = { "InternalServerError", "Encountered internal server error. Diagnostic information: timestamp '%s'." },
  [502] = { "ProviderError", "Resource provider 'Microsoft.Compute' failed to return collection response for type 'virtualMachines'." },
  [503] = { "ServiceUnavailable", "The server (leased) is currently unable to handle the request. Please retry." },
  [504] = { "GatewayTimeout", "The gateway did not receive a response from 'Microsoft.Compute' within the specified time period." },
}

local OCTO_ERRORS = {
  [429] = "Too many requests. The rate limit for this API key has been exceeded; retry after the time given in Retry-After.",
  [500] = "An unexpected error occurred in Octopus Server. See the server log for details.",
  [502] = "Bad gateway.",
  [503] = "Octopus Server is currently unavailable. Please try again later.",
  [504] = "The request timed out.",
}

function M.error_body(W, family, status, now_ms)
  if family == "arm" then
    if status == 429 then
      -- the documented CRP throttling body: no "error" wrapper
      local start = time.azure(now_ms)
      return {
        code = "OperationNotAllowed",
        message = "The server rejected the request because too many requests have been received for this subscription.",
        details = { {
          code = "TooManyRequests",
          target = "HighCostGet30Min",
          message = json.encode({ operationGroup = "HighCostGet30Min", startTime = start,
            endTime = time.azure(now_ms + 1200000), allowedRequestCount = 800, measuredRequestCount = 1238 }),
        } },
      }
    end
    local e = ARM_ERRORS[status] or { "Error" .. status, "Injected fault (HTTP %s)." }
    local stamp = time.iso(now_ms):gsub("[-:]", "")
    return { error = { code = e[1], message = string.format(e[2], status == 500 and stamp or tostring(status)) } }
  elseif family == "octopus" then
    return { ErrorMessage = OCTO_ERRORS[status] or ("HTTP " .. status), Errors = json.arr({}) }
  elseif family == "entra" then
    local code = status == 429 and 50196 or 90033
    return {
      error = "temporarily_unavailable",
      error_description = string.format("AADSTS%d: The service is temporarily unavailable. Please retry.", code),
      error_codes = { code },
      timestamp = time.iso(now_ms):gsub("T", " "),
      trace_id = "00000000-0000-0000-0000-000000000000",
      correlation_id = "00000000-0000-0000-0000-000000000000",
    }
  elseif family == "imds" or family == "appservice" then
    return { error = "temporarily_unavailable", error_description = "Injected fault (HTTP " .. status .. ")" }
  end
  return { error = "injected fault", status = status }
end

-- What a proxy or an expired sign-in in front of the service answers.
local HTML_PAGE = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>" ..
  "<body><h1>Sign in to continue</h1><p>This page is served by a proxy, not by the API.</p></body></html>\n"

-- The response for a terminal effect.
function M.respond(W, family, term, now_ms)
  local r = term.rule
  if term.reset then return { status = 0, reset = true, headers = {}, body = "" } end
  if r.html or r.empty then
    local headers = {}
    if r.html then headers[1] = { "Content-Type", "text/html; charset=utf-8" } end
    for k, v in pairs(r.headers or {}) do headers[#headers + 1] = { k, tostring(v) } end
    return { status = term.status, headers = headers, body = r.html and HTML_PAGE or "", fault = r.name }
  end
  local status = term.status
  local headers = {}
  local ra = term.retry_after or retry_after_value(r.retry_after)
  if not ra and status == 429 then ra = "1" end
  if ra then headers[#headers + 1] = { "Retry-After", ra } end
  if family == "arm" and status == 429 then
    headers[#headers + 1] = { "x-ms-ratelimit-remaining-resource", "Microsoft.Compute/HighCostGet3Min;0" }
    headers[#headers + 1] = { "x-ms-ratelimit-remaining-resource", "Microsoft.Compute/HighCostGet30Min;0" }
  end
  for k, v in pairs(r.headers or {}) do headers[#headers + 1] = { k, tostring(v) } end
  local body = r.body
  if body == nil then body = M.error_body(W, family, status, now_ms) end
  return { status = status, headers = headers, body = body, fault = r.name }
end

-- ---- body effects: a 200 answer that lies -------------------------------------------

-- Follows a dotted path to the table holding its last key.
local function parent_of(body, path)
  local keys = util.split(path, ".")
  local t = body
  for i = 1, #keys - 1 do
    if type(t) ~= "table" then return nil end
    t = t[keys[i]]
  end
  if type(t) ~= "table" then return nil end
  return t, keys[#keys]
end

-- The list a paged body carries (ARM value, Octopus Items).
local function items_of(body)
  if body.value ~= nil then return "value" end
  if body.Items ~= nil then return "Items" end
  return nil
end

-- The request's own URL, as the server would write it in a next link.
local function self_link(req, family)
  local q = req.query_raw ~= "" and ("?" .. req.query_raw) or ""
  if family == "arm" then return req.base .. req.path_raw .. q end
  return req.path_raw .. q
end

-- Applies the matched rules' body effects to a successful JSON answer:
-- next_link (self: point the next link at this very request), drop_items
-- (the last N items vanish), remove (dotted paths deleted), set (dotted
-- path -> value; null writes JSON null).
function M.mangle(W, eff, resp, req, family)
  if #eff.mangle == 0 or resp.status ~= 200 or type(resp.body) ~= "table" then return end
  local body = resp.body
  for _, r in ipairs(eff.mangle) do
    local key = items_of(body)
    if r.drop_items and key and type(body[key]) == "table" then
      local list = body[key]
      for _ = 1, math.min(r.drop_items, #list) do list[#list] = nil end
      if #list == 0 then body[key] = json.arr({}) end
    end
    if r.next_link == "self" then
      if family == "octopus" and type(body.Links) == "table" then
        body.Links["Page.Next"] = self_link(req, family)
      elseif family == "arm" and key then
        body.nextLink = self_link(req, family)
      end
    end
    for _, path in ipairs(r.remove or {}) do
      local t, k = parent_of(body, path)
      if t then t[k] = nil end
    end
    for path, v in pairs(r.set or {}) do
      local t, k = parent_of(body, path)
      if t then t[k] = v end
    end
  end
end

-- After encoding, on a 2xx answer: truncate cuts the body (Content-Length
-- is the cut length: a complete answer of broken JSON); oversize has the
-- front end pad it with spaces to that many bytes (sim_http.c streams it).
function M.break_text(rule, resp)
  if not rule or resp.status < 200 or resp.status > 299 then return end
  if rule.text_fault == "truncate" then
    local t, n = rule.truncate, #resp.body
    local keep = t.bytes or math.floor(n * t.percent / 100)
    resp.body = resp.body:sub(1, math.min(keep, n))
  elseif rule.text_fault == "oversize" then
    resp.pad_to = rule.oversize
  end
end

-- For GET /_sim/faults.
function M.describe(W)
  local out = {}
  for i, r in ipairs(W.faults) do
    out[i] = {
      name = r.name, route = r.route, method = r.method, path = r.path, page = r.page,
      count = r.count or "always", after = r.after, status = r.status, reset = r.reset,
      latency_ms = r.latency_ms, slow_body_ms = r.slow_body_ms, rate_limit = r.rate_limit,
      next_link = r.next_link, drop_items = r.drop_items, remove = r.remove, set = r.set,
      query = r.query, html = r.html or nil, empty = r.empty or nil, truncate = r.truncate,
      oversize = r.oversize,
      matched = r.matched, fired = r.fired,
    }
  end
  return json.arr(out)
end

return M
