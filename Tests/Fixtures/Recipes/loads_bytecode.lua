-- A precompiled chunk starts with ESC "Lua"; recipes may load text only.
local chunk = load("\27LuaT\0\25\147\13\10\26\10\4\8\8xV\0\0\0\0\0\0\0\0\0\0\0(w@")
