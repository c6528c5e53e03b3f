local step = echo { message = "x" }
getmetatable(step).__gc = function() while true do end end
return pipeline { name = "gc", steps = { step } }
