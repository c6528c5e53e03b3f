-- Tries to allocate about 1 GB.
local big = string.rep("x", 1024 * 1024 * 1024)
return pipeline { steps = {} }
