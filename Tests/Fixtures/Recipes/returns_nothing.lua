-- Evaluates fine but returns nothing.
local a = echo { message = "lonely" }
