/// Lua run once per interpreter, before the recipe: the text-only `load`, the rooted `require`
/// and the strict global table. It receives the host table (`rawload`, `find_module`) as its
/// argument and keeps it in locals, so recipes cannot reach it.
enum SandboxPrelude {
    static let chunkName = "=(slipway sandbox)"

    static let source = #"""
    local host = ...
    local rawload, find_module = host.rawload, host.find_module
    local error, type, pcall, tostring, setmetatable, rawget = error, type, pcall, tostring, setmetatable, rawget

    -- No finalisers: Lua runs __gc with the count hook off (and again when the state closes), so
    -- one could loop outside every limit. Lua marks a table for finalisation only when
    -- setmetatable sees __gc in the metatable, so refusing it here is enough.
    function _G.setmetatable(t, mt)
      if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
        error("setmetatable: finalisers (__gc) are not allowed in recipes (sandbox): they would run outside the recipe's time and instruction limits", 2)
      end
      return setmetatable(t, mt)
    end

    -- Text chunks only: bytecode can break the VM's safety guarantees.
    function load(chunk, name, mode, env)
      if type(chunk) == "string" and chunk:byte(1) == 27 then
        error("load: binary chunks are not allowed in recipes (sandbox)", 2)
      end
      if mode ~= nil and mode ~= "t" then
        error("load: only text chunks (mode 't') are allowed in recipes (sandbox)", 2)
      end
      if env == nil then return rawload(chunk, name, "t") end
      return rawload(chunk, name, "t", env)
    end

    -- require, rooted at the recipe's folder and Recipes/lib; find_module refuses anything else.
    local loaded, loading, chain = {}, {}, {}
    function require(name)
      if type(name) ~= "string" then
        error("require: module name must be a string, got " .. type(name), 2)
      end
      local value = loaded[name]
      if value ~= nil then return value end
      if loading[name] then
        error("require: module '" .. name .. "' requires itself (a cycle: "
          .. table.concat(chain, " → ") .. " → " .. name .. ")", 2)
      end
      local chunk, message = find_module(name)
      if not chunk then error(message, 2) end
      loading[name] = true
      chain[#chain + 1] = name
      local ok, result = pcall(chunk, name)
      chain[#chain] = nil
      loading[name] = nil
      if not ok then error(result, 0) end
      if result == nil then result = true end
      loaded[name] = result
      return result
    end

    -- log.info(...) and friends, and print: arguments pass through tostring here in Lua, so
    -- __tostring metamethods never run inside a Swift frame.
    local emit, select, concat = host.log, select, table.concat
    local function render(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      return concat(parts, "\t")
    end
    log = {
      debug = function(...) emit("debug", render(...)) end,
      info = function(...) emit("info", render(...)) end,
      warn = function(...) emit("warning", render(...)) end,
      error = function(...) emit("error", render(...)) end,
    }
    function print(...) emit("info", render(...)) end

    local forbidden = {
      io = "'io' is not available in recipes (sandbox): a recipe describes a pipeline; steps do the work",
      os = "'os' is not available in recipes (sandbox): run commands in a cmd step instead",
      debug = "'debug' is not available in recipes (sandbox)",
      package = "'package' is not available in recipes (sandbox): use require, rooted at the recipe's folder and Recipes/lib",
      dofile = "'dofile' is not available in recipes (sandbox): use require",
      loadfile = "'loadfile' is not available in recipes (sandbox): use require",
      collectgarbage = "'collectgarbage' is not available in recipes (sandbox)",
    }
    -- Reading an undefined global is an error: it catches typos such as `bulid { ... }`.
    setmetatable(_G, {
      __index = function(_, key)
        local why = forbidden[key]
        if why then error(why, 2) end
        error("unknown name '" .. tostring(key) .. "'", 2)
      end,
    })
    """#
}
