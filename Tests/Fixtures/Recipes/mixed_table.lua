-- A table cannot be both a list and a map.
local a = echo { message = "x", env = { "A", B = "b" } }
