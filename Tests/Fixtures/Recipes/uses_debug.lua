-- debug would let a recipe inspect and change any function.
local info = debug.getinfo(1)
