-- Argo CD health check for ferry.dev/v1alpha1 Migration, from its status.
-- In argocd-cm: resource.customizations.health.ferry.dev_Migration: <this file>.
--   Pending, Progressing -> Progressing, with the step, the weight and why it holds
--   Paused               -> Suspended
--   Completed            -> Healthy
--   Aborted, or a spec the controller refuses -> Degraded, with the reason
local hs = {}

local function condition(typ)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == typ then
      return c
    end
  end
  return nil
end

-- where: "step 2/4 at 10%", or "" before the first step.
local function where()
  local s = obj.status
  local parts = {}
  if s.stepDisplay ~= nil and s.stepDisplay ~= "" then
    table.insert(parts, "step " .. s.stepDisplay)
  end
  if s.appliedWeight ~= nil and s.appliedWeight ~= "" then
    table.insert(parts, "at " .. s.appliedWeight)
  end
  return table.concat(parts, " ")
end

local function join(a, b)
  if a == nil or a == "" then
    return b or ""
  end
  if b == nil or b == "" then
    return a
  end
  return a .. ": " .. b
end

if obj.status == nil or obj.status.phase == nil or obj.status.phase == "" then
  hs.status = "Progressing"
  hs.message = "waiting for the ferry controller to pick up the migration"
  return hs
end

local s = obj.status
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and s.observedGeneration ~= nil and s.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = join(where(), "waiting for the ferry controller to see the change")
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" and degraded.reason == "InvalidSpec" then
  hs.status = "Degraded"
  hs.message = degraded.message
  return hs
end

if s.phase == "Completed" then
  local ready = condition("Ready")
  hs.status = "Healthy"
  hs.message = join("completed", (ready and ready.message) or where())
elseif s.phase == "Aborted" then
  hs.status = "Degraded"
  local reason = s.abortReason
  if (reason == nil or reason == "") and degraded ~= nil then
    reason = degraded.message
  end
  hs.message = join("aborted, all traffic back to legacy", reason)
elseif s.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = join("paused", where())
else
  local progressing = condition("Progressing")
  local why = progressing and progressing.message
  if degraded ~= nil and degraded.status == "True" then
    why = degraded.message
  end
  hs.status = "Progressing"
  hs.message = join(where(), why)
  if hs.message == "" then
    hs.message = s.phase
  end
end
return hs
