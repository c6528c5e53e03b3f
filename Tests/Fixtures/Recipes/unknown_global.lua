-- A typo for build: reading an undefined global is an error, not nil.
local img = bulid { context = "." }
