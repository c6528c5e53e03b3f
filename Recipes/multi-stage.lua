-- A multi-stage build: the Dockerfile's "assets" stage gathers files, the final stage copies
-- only what it needs. Two tags from one build; the second push sends no blobs again.
--   slipway run Recipes/multi-stage.lua --set registry=127.0.0.1:5000
local registry = values.registry or error("set the registry: --set registry=HOST:PORT")
local version = values.version or "dev"

local image = build {
  context = "Recipes/examples/multi-stage",
  build_args = { VERSION = version },
  tags = { registry .. "/multi-stage:" .. version, registry .. "/multi-stage:latest" },
}

local published = push { image, id = "publish", retries = 2, retry_delay = "1s" }
return pipeline { name = "multi-stage", steps = { echo { message = "published " .. version, after = { published } } } }
