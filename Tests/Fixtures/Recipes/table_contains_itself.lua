local loop = {}
loop.again = loop
return pipeline { name = "loop", steps = { echo { message = "x", labels = loop } } }
