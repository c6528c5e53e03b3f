#!/usr/bin/env bash
# The Lua bridge rule (Docs/lua-bridge-safety.md): only the C shim (Sources/CLuaShim/shim.c, and
# pattern.c, Lua's own budgeted pattern matcher) may call the Lua functions that raise errors by
# longjmp, or call Lua unprotected.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(lua_error|luaL_error|luaL_argerror|luaL_typeerror|luaL_check[a-z]*|luaL_opt[a-z]*|lua_callk?|lua_yieldk?)[[:space:]]*\('
offenders=$(grep -rnE "$pattern" Sources Plugins --include='*.swift' --include='*.c' --include='*.h' \
  | grep -vE '^Sources/CLuaShim/(shim|pattern)\.c:' || true)
if [ -n "$offenders" ]; then
  echo "check-bridge: Lua-raising calls outside Sources/CLuaShim/shim.c:" >&2
  echo "$offenders" >&2
  exit 1
fi
echo "check-bridge: ok (Lua errors are raised only in the C shim: Sources/CLuaShim/shim.c and pattern.c)"
