-- Constructors take one table.
local a = echo "hello"
