-- A task `slipway serve` runs again whenever the base image it was last built on moves:
--   slipway task create --file Recipes/rebuild-on-base.lua --set name=greet \
--     --set context=$PWD/Recipes/examples/busybox-app \
--     --set base=127.0.0.1:5000/demo/busybox:1 --set image=127.0.0.1:5000/demo/greet:1
--   slipway task run greet --wait      # once by hand: Slipway records what it was built on
-- From then on a new base — pushed by anyone and announced by the registry's notification, or
-- pushed by another Slipway task, or found by polling — rebuilds and pushes it, once per base
-- digest. `scope = "all"` also watches the other stages' bases.
local function required(key)
  return values[key] or error("set " .. key .. ": slipway task create --file Recipes/rebuild-on-base.lua --set " .. key .. "=…")
end

return task {
  name = values.name or "app",
  triggers = { base_image { scope = values.scope or "runtime" } },
  pipeline = function(run)
    local image = build {
      id = "image",
      -- A folder (absolute: serve may run elsewhere), a Git locator or a tarball URL.
      context = required("context"),
      build_args = { BASE = required("base") },
      tags = { required("image") },
    }
    return { image, push { id = "push", inputs = { image } } }
  end,
}
