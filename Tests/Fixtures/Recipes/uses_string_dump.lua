-- string.dump produces bytecode, which recipes may not load.
local bytes = string.dump(function() end)
