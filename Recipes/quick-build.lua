-- What `slipway build -t TAG CONTEXT` does, as a recipe: build, then push.
-- The context is a folder, a Git locator (URL#ref:subdir) or an http(s) tarball URL.
--   slipway run Recipes/quick-build.lua --set tag=127.0.0.1:5000/site:1 \
--     --set context=Recipes/examples/static-site
--   slipway run Recipes/quick-build.lua --set tag=127.0.0.1:5000/site:1 \
--     --set context=https://git.example.com/site.git#main:web
local tag = values.tag or error("set the destination: --set tag=REGISTRY/REPOSITORY:TAG")

local image = build {
  id = "image",
  context = values.context or ".",
  file = values.file or "Dockerfile",
  tags = { tag },
  no_cache = values.no_cache == "true",
  -- The push below follows: each layer starts uploading while it is written.
  stream_layers = true,
}

return pipeline { name = "quick-build", steps = { push { image } } }
