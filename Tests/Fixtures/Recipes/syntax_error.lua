local a = echo { message = "ok" }
return pipeline { steps = { a }
