-- One task per app of a family, all from this recipe: when the base they were built on moves,
-- each is patched the cheapest way that is provably the same as a rebuild.
--   slipway task create --file Recipes/patch-on-base-update.lua --set name=web \
--     --set context=$PWD/apps/web --set base=reg.example.com/os/base:1 --set image=reg.example.com/team/web:1
--   slipway task run web --wait      # once by hand: Slipway records how each layer was made
-- strategy "auto" (the default here) rebases in the registry — milliseconds, no layer sent — when
-- every layer above the base came from COPY, ADD or metadata, and rebuilds otherwise (a RUN layer
-- depends on the old base). The run's log says which and why ("patch decision: …"); so do
-- run.patch and run.patch_reason, for hooks. strategy "rebase" fails instead of rebuilding,
-- "rebuild" always rebuilds.
local function required(key)
  return values[key] or error("set " .. key .. ": slipway task create --file Recipes/patch-on-base-update.lua --set " .. key .. "=…")
end

return task {
  name = values.name or "app",
  triggers = { base_image { scope = "runtime", strategy = values.strategy or "auto" } },
  pipeline = function(run)
    local image = build {
      id = "image",
      context = required("context"),
      build_args = { BASE = required("base") },
      tags = { required("image") },
    }
    return { image, push { id = "push", inputs = { image } } }
  end,
}
