-- A finaliser runs with Lua's count hook off: it must never get the chance.
setmetatable({}, { __gc = function() while true do end end })
return pipeline { name = "gc", steps = { echo { message = "x" } } }
