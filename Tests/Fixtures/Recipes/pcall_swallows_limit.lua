-- The recipe tries to survive its instruction limit by catching the error and looping again.
while true do
  pcall(function() while true do end end)
end
