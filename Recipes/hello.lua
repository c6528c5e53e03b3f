-- The example pipeline `make demo` runs: fan-out, fan-in, a retried step and values.
--   slipway plan Recipes/hello.lua
--   slipway run Recipes/hello.lua --set who=you
local naming = require "naming"

local who = values.who or "world"
local greet = echo { id = "greet-" .. naming.slug(who), message = "hello, " .. who }

-- Three independent branches after the greeting: they run in parallel.
local branches = {}
for _, region in ipairs { "north", "south", "west" } do
  branches[#branches + 1] = sleep {
    id = "warm-" .. region, duration = "200ms", after = { greet }, timeout = "10s", retries = 1,
  }
end

local done = echo { id = "summary", message = "all " .. #branches .. " regions warmed", after = branches }

return pipeline {
  name = "hello",
  steps = { done },
  timeout = "1m",
}
