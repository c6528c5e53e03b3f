-- Exponential backtracking inside one C call to string.find.
local subject = string.rep("a", 30000)
local found = subject:find(string.rep("a*", 30) .. "b")
return pipeline { name = "pattern", steps = { echo { message = tostring(found) } } }
