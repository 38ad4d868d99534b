-- Entry points called from C (sim_lua.c): init, set_port, handle, finish,
-- log_lines. Each request: apply whatever fell due on the clock, route it,
-- run the fault rules, answer, and record it in the request log.
local json = require "sim.json"
local model = require "sim.model"
local rand = require "sim.rand"
local scenario = require "sim.scenario"
local time = require "sim.time"
local util = require "sim.util"

local M = {}

local W -- the world, built by init
local MAX_LOGGED_BODY = 65536

function M.init(opts)
  local cfg, err = scenario.load_file(opts.scenario)
  if not cfg then return nil, err end
  local w = model.new(cfg, { speed = opts.speed })
  w.rng = rand.new(cfg.seed, "requests")
  w.log, w.seq, w.port = {}, 0, 0
  local ok, e = pcall(function()
    require("sim.azure_model").build(w)
    require("sim.octo_model").build(w)
    require("sim.faults").build(w)
  end)
  if not ok then
    if type(e) == "table" and e.scenario then
      local msg = e.scenario
      if msg:sub(1, #cfg.path) ~= cfg.path then msg = cfg.path .. ": " .. msg end
      return nil, msg
    end
    error(e, 0)
  end
  W = w
  return true
end

function M.set_port(port)
  W.port = port
end

-- Splits the raw request target into path and query, decodes path
-- segments (ARM paths are matched case-insensitively, so both cases kept).
local function parse(raw)
  local uri = raw.uri
  local path_raw, query_raw = uri:match("^([^?]*)%??(.*)$")
  if path_raw:match("^https?://") then path_raw = path_raw:gsub("^https?://[^/]*", "") end
  local req = {
    method = raw.method,
    uri = uri,
    path_raw = path_raw,
    query_raw = query_raw or "",
    path = util.url_decode(path_raw),
    body = raw.body or "",
    body_too_large = raw.body_too_large,
    headers = {},
    segs = {},
    lsegs = {},
  }
  for k, v in pairs(raw.headers) do req.headers[k:lower()] = v end
  for seg in path_raw:gmatch("[^/]+") do
    local d = util.url_decode(seg)
    req.segs[#req.segs + 1] = d
    req.lsegs[#req.lsegs + 1] = d:lower()
  end
  req.q = util.parse_query(req.query_raw)
  req.base = "http://" .. (req.headers["host"] or ("127.0.0.1:" .. W.port))
  return req
end

local function resolve(req)
  return require("sim.azure").resolve(W, req) or require("sim.octopus").resolve(W, req) or {
    family = "other", name = "unknown",
    handler = function()
      return { status = 404, headers = {}, body = { error = "octoscale-sim: no route for " .. req.method .. " " .. req.path } }
    end,
  }
end

-- The request log hides credentials that travel in the query string.
local function redact(q)
  return (q:gsub("([Aa][Pp][Ii][Kk][Ee][Yy]=)[^&]*", "%1REDACTED"))
end

local function finalize(resp, family, req)
  resp.headers = resp.headers or {}
  local body = resp.body
  if body == json.EMPTY_ARRAY then
    body = "[]" -- an empty list as the whole body
  elseif type(body) == "table" or type(body) == "userdata" then
    body = json.encode(body)
  end
  resp.body = body or ""
  local typed = false
  for _, h in ipairs(resp.headers) do
    if h[1]:lower() == "content-type" then typed = true end
  end
  if resp.body ~= "" and not typed then
    table.insert(resp.headers, 1, { "Content-Type", "application/json; charset=utf-8" })
  end
  if family == "arm" then require("sim.azure").decorate(W, req, resp) end
  return resp
end

function M.handle(raw)
  local req = parse(raw)
  model.sync(W)

  if req.path == "/_sim" or req.path:sub(1, 6) == "/_sim/" then
    return finalize(require("sim.control").handle(W, req), "control", req)
  end

  local route = resolve(req)
  W.seq = W.seq + 1
  local seq = W.seq
  local page = route.page and route.page(req) or nil
  local faults = require "sim.faults"
  local eff = faults.evaluate(W, { route = route.name, method = req.method, path = req.path,
    query = util.url_decode(req.query_raw, true), page = page })
  local resp
  if eff.terminal then
    resp = faults.respond(W, route.family, eff.terminal, model.now(W))
  elseif req.body_too_large then
    resp = { status = 413, headers = {}, body = { error = "request body too large" } }
  else
    resp = route.handler(W, req, route)
    faults.mangle(W, eff, resp, req, route.family)
  end
  finalize(resp, route.family, req)
  if not eff.terminal then faults.break_text(eff.text_fault, resp) end

  local entry = {
    seq = seq,
    method = req.method,
    path = req.path,
    query = redact(util.url_decode(req.query_raw, true)),
    route = route.name,
    status = resp.reset and 0 or resp.status,
    sim_time = time.iso(model.now(W)),
    latency_ms = eff.latency_ms,
    time_ms = json.null,
  }
  if #eff.rules > 0 then entry.faults = json.arr(eff.rules) end
  if resp.reset then entry.reset = true end
  if page then entry.page = page end
  -- write bodies are kept so tests can assert on what a PUT sent; token
  -- requests are not (they carry the client secret)
  if req.method ~= "GET" and req.body ~= "" and #req.body <= MAX_LOGGED_BODY and
    (route.family == "octopus" or route.family == "arm") then
    entry.body = req.body
  end
  local log = W.log
  log[#log + 1] = entry
  if #log > W.cfg.log_limit then table.remove(log, 1) end
  W.pending_log = W.pending_log or {}
  W.pending_log[seq] = entry

  resp.seq = seq
  resp.delay_ms = eff.latency_ms
  resp.slow_body_ms = eff.slow_body_ms
  resp.pad_to = resp.pad_to or 0
  return resp
end

function M.finish(seq, elapsed_ms)
  local p = W.pending_log
  local e = p and p[seq]
  if e then
    e.time_ms = elapsed_ms
    p[seq] = nil
  end
end

function M.log_lines()
  local out = {}
  for i, e in ipairs(W.log) do out[i] = json.encode(e) end
  return table.concat(out, "\n") .. (#out > 0 and "\n" or "")
end

return M
