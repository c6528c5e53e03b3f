-- Every night, patch the OS packages of images the team did not build — third-party images
-- mirrored into the registry — without their source: each gets one added layer and goes to
-- TAG-patched (or the next TAG-N with tag_policy = "increment"); an image with nothing to update
-- pushes nothing.
--   slipway task create --file Recipes/nightly-os-patch.lua \
--     --set images=reg.example.com/mirror/nginx:1.25,reg.example.com/mirror/redis:7 --values patch-sources.yaml
-- patch-sources.yaml (optional; default: each image's own apt sources):
--   sources:
--     - deb http://deb.debian.org/debian bookworm main
--     - deb http://deb.debian.org/debian bookworm-updates main
--     - deb http://deb.debian.org/debian-security bookworm-security main
-- With --set report=/path/trivy.json (a Trivy JSON report), only the packages it names are
-- upgraded, to at least their fixed versions. Run it now with `slipway run` or `task run`.
local function required(key)
  return values[key] or error("set " .. key .. ": --set " .. key .. "=…")
end

local function list(value)
  if type(value) == "table" then return value end
  local items = {}
  for item in string.gmatch(value, "[^,]+") do items[#items + 1] = item end
  return items
end

return task {
  name = values.name or "nightly-os-patch",
  triggers = { schedule { cron = values.cron or "0 3 * * *" } },
  pipeline = function(run)
    local steps = {}
    for index, image in ipairs(list(required("images"))) do
      steps[#steps + 1] = patch {
        id = "patch-" .. index,
        image = image,
        sources = values.sources,
        report = values.report,
        tag_policy = values.tag_policy,
      }
    end
    return steps
  end,
}
