local a = echo { mesage = "typo" }
return pipeline { steps = { a } }
