-- What `slipway build -t TAG CONTEXT` does, as a recipe: build, then push.
--   slipway run Recipes/quick-build.lua --set tag=127.0.0.1:5000/site:1 \
--     --set context=Recipes/examples/static-site
local tag = values.tag or error("set the destination: --set tag=REGISTRY/REPOSITORY:TAG")

local image = build {
  context = values.context or ".",
  file = values.file or "Dockerfile",
  tags = { tag },
}

return pipeline { name = "quick-build", steps = { push { image } } }
