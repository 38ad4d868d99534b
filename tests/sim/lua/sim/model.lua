-- The simulated world: the clock, the scripted timeline, internal events
-- that fall due (a VM finishing provisioning, an overprovisioned extra
-- being deleted), and the Azure and Octopus state (sim.azure_model,
-- sim.octo_model). Time only moves through advance() or, with --speed, by
-- real time; every request first applies whatever has fallen due.
local simc = require "simc"
local time = require "sim.time"

local M = {}

local MAX_HISTORY = 2000

function M.new(cfg, opts)
  local W = {
    cfg = cfg,
    clock = {
      start_ms = cfg.start_ms,
      offset_ms = 0,
      speed = opts.speed or 0,
      real0 = simc.monotonic_ms(),
      last = cfg.start_ms,
    },
    applying = nil, -- the due time of the event being applied
    timeline = cfg.timeline,
    next_step = 1,
    pending = {},
    pending_seq = 0,
    history = {},
  }
  return W
end

function M.now(W)
  if W.applying then return W.applying end
  local c = W.clock
  local t = c.start_ms + c.offset_ms
  if c.speed > 0 then t = t + math.floor((simc.monotonic_ms() - c.real0) * c.speed) end
  if t < c.last then t = c.last end
  c.last = t
  return t
end

function M.note(W, what)
  local h = W.history
  h[#h + 1] = { time = time.iso(M.now(W)), what = what }
  if #h > MAX_HISTORY then table.remove(h, 1) end
end

-- Schedules fn(W) at due (ms). Events at the same time run in the order
-- they were scheduled.
function M.schedule(W, due, what, fn)
  W.pending_seq = W.pending_seq + 1
  local ev = { due = due, seq = W.pending_seq, what = what, fn = fn }
  local p = W.pending
  local lo, hi = 1, #p + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    local e = p[mid]
    if e.due < due or (e.due == due and e.seq < ev.seq) then lo = mid + 1 else hi = mid end
  end
  table.insert(p, lo, ev)
  return ev
end

local function step_due(W, s)
  return W.clock.start_ms + s.at_ms
end

-- Applies, in time order, every timeline step and pending event due at or
-- before `target`, with the clock reading each one's due time meanwhile.
function M.apply_due(W, target)
  local applied = {}
  while true do
    local s = W.timeline[W.next_step]
    local sdue = s and step_due(W, s)
    local e = W.pending[1]
    local pick
    if s and sdue <= target and (not e or sdue <= e.due) then
      pick = "step"
    elseif e and e.due <= target then
      pick = "event"
    else
      break
    end
    if pick == "step" then
      W.next_step = W.next_step + 1
      W.applying = math.max(sdue, W.clock.last)
      local what = M.run_action(W, s.action)
      applied[#applied + 1] = what
    else
      table.remove(W.pending, 1)
      W.applying = math.max(e.due, W.clock.last)
      e.fn(W)
      M.note(W, e.what)
      applied[#applied + 1] = e.what
    end
    W.clock.last = W.applying
    W.applying = nil
  end
  return applied
end

-- Called at the start of every request.
function M.sync(W)
  return M.apply_due(W, M.now(W))
end

function M.advance(W, ms)
  local target = M.now(W) + ms
  local applied = M.apply_due(W, target)
  W.clock.offset_ms = W.clock.offset_ms + ms
  W.clock.last = math.max(W.clock.last, target)
  return applied
end

-- Applies the next scripted step now, whatever its time.
function M.step(W)
  local s = W.timeline[W.next_step]
  if not s then return nil end
  W.next_step = W.next_step + 1
  local what = M.run_action(W, s.action)
  -- the step may have scheduled work that is already due
  M.sync(W)
  return what
end

function M.next_step_at(W)
  local s = W.timeline[W.next_step]
  return s and time.iso(step_due(W, s)) or nil
end

-- Dispatches one validated action (timeline, or POST /_sim/actions).
-- Returns a one-line description; raises {scenario = msg} for a bad
-- reference (unknown instance or machine) so callers can report it.
function M.run_action(W, a)
  local az = require "sim.azure_model"
  local oc = require "sim.octo_model"
  local what
  if a.kind == "scale" or a.kind == "vm_state" or a.kind == "delete_vm" then
    what = az.run_action(W, a)
  elseif a.kind == "faults" then
    what = require("sim.faults").run_action(W, a)
  else
    what = oc.run_action(W, a)
  end
  M.note(W, what)
  return what
end

return M
