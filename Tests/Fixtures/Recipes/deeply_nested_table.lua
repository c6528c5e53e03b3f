local value = {}
for _ = 1, 200 do value = { value } end
return pipeline { name = "deep", steps = { echo { message = "x", labels = value } } }
