local x = require "../x"
