local a = echo { id = "a", message = "a", after = { "c" } }
local b = echo { id = "b", message = "b", after = { a } }
local c = echo { id = "c", message = "c", after = { b } }
return pipeline { steps = { a, b, c } }
