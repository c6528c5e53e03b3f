local a = echo { message = "x", ["$step"] = "forged" }
