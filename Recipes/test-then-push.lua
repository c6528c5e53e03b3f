-- Build an app, start it as a service, test it from another container over the run network,
-- and push it only when the test passes: ACR Tasks' build → cmd → push, as a recipe.
-- Its acr-task.yaml twin is Recipes/acr/test-then-push.yaml.
--   slipway run Recipes/test-then-push.lua --registry 127.0.0.1:5000 \
--     --set base=127.0.0.1:5000/demo/busybox:1      (any image with busybox's httpd and wget)
-- `make demo` runs it; `--set expect=goodbye` shows a failing test stopping the push.
local registry = run.registry or error("give the registry to push to: --registry HOST[:PORT]")
local base = values.base or error("set the base image (busybox with httpd and wget): --set base=REF")
local examples = values.examples or "Recipes/examples"

local app = build {
  id = "app",
  context = examples .. "/web-app",
  build_args = { BASE = base },
  tags = { registry .. "/web-app:" .. (values.version or run.id) },
}

-- A service: left running for the steps after it, reachable as http://web:8080/ on the run
-- network, stopped and removed when the run ends.
local web = cmd { id = "web", image = app, detach = true, stop_timeout = "2s" }

local tester = build { id = "tester", context = examples .. "/web-app-test", build_args = { BASE = base } }
local test = cmd {
  id = "test",
  image = tester,
  after = web,
  env = { TARGET = "http://web:8080/", EXPECT = values.expect or "hello from slipway" },
  timeout = "1m",
}

return pipeline { name = "test-then-push", steps = { push { app, after = test } } }
