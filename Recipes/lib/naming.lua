-- Helpers shared by recipes: `local naming = require "naming"` (Recipes/lib is a require root).
local naming = {}

-- "Hello, World!" -> "hello-world": safe for step ids and image tags.
function naming.slug(text)
  local slug = text:lower():gsub("[^%w]+", "-"):gsub("^-+", ""):gsub("-+$", "")
  return slug
end

return naming
