os.execute("touch /tmp/slipway-pwned")
