// The C side of the Lua bridge. Lua reports errors with longjmp, which must never unwind a
// Swift frame; so every Lua-raising call (lua_error, luaL_error, lua_call) lives in shim.c and
// Swift only reaches Lua through slipway_pcall. See Docs/lua-bridge-safety.md.
#ifndef SLIPWAY_CLUASHIM_H
#define SLIPWAY_CLUASHIM_H

#include <stddef.h>
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>

/// Which budget a state exhausted (0 while none has).
enum {
    SLIPWAY_LIMIT_NONE = 0,
    SLIPWAY_LIMIT_INSTRUCTIONS = 1,
    SLIPWAY_LIMIT_MEMORY = 2,
    SLIPWAY_LIMIT_TIME = 3,
};

/// Returned by a host (Swift) function to ask the trampoline to raise the error message the
/// function left on top of the stack.
#define SLIPWAY_RAISE (-1)

/// Budgets and counters of one state; it is the allocator's user data.
typedef struct slipway_budget {
    size_t memory_used;
    size_t memory_limit;          // bytes; 0 = unlimited
    long long instructions;       // counted in steps of SLIPWAY_HOOK_STEP
    long long instruction_limit;  // 0 = unlimited
    double deadline;              // CLOCK_MONOTONIC seconds; 0 = none
    int in_host;                  // > 0 while a host function runs: allocations may not fail then
    int limit_hit;                // one of SLIPWAY_LIMIT_*
} slipway_budget;

/// A host function: `owner` is the pointer registered with the closure, `function` its number.
/// Returns the number of results, or SLIPWAY_RAISE with an error message pushed.
typedef int (*slipway_dispatch_fn)(lua_State *L, void *owner, int function);

/// Installs the one dispatcher every host closure goes through (set once, at start-up).
void slipway_set_dispatch(slipway_dispatch_fn fn);

/// A new state with a counting allocator, a count hook and a panic handler. NULL on failure.
lua_State *slipway_newstate(size_t memory_limit);
void slipway_close(lua_State *L);
slipway_budget *slipway_budget_of(lua_State *L);

/// Arms the instruction and time budgets for the next entry into Lua (0 = unlimited) and
/// clears any previous limit hit.
void slipway_arm(lua_State *L, long long instruction_limit, double seconds);

/// Opens only base, string, table, math, utf8 and coroutine; then removes what escapes or
/// bypasses the sandbox (dofile, loadfile, load, string.dump, collectgarbage).
void slipway_open_safe_libs(lua_State *L);

/// Loads text (never a binary chunk). Returns a lua status; leaves the function or message.
int slipway_load_text(lua_State *L, const char *buffer, size_t length, const char *chunkname);

/// Calls the function below `nargs` arguments in protected mode. On error leaves the message
/// (a string) on the stack and stores the traceback under the registry key "slipway.traceback".
int slipway_pcall(lua_State *L, int nargs, int nresults);

/// Pushes a C closure that calls the dispatcher with (owner, function).
void slipway_push_host_function(lua_State *L, void *owner, int function);

/// The chunk source and current line of the Lua function at `level` (1 = the caller of the
/// running host function). Copies the short source into `buffer`. Returns -1 when unknown.
int slipway_where(lua_State *L, int level, char *buffer, size_t buffer_length);

/// Where the function at `index` was defined (its chunk and first line). -1 when unknown.
int slipway_function_where(lua_State *L, int index, char *buffer, size_t buffer_length);

/// Charges `instructions` of work done in C (pattern matching) to the budget, and raises the
/// limit error there when the budget is spent. For the shim's own C code; never call from Swift.
void slipway_charge(lua_State *L, long long instructions);

/// Replaces find, match, gmatch and gsub in the table on top of the stack with the budgeted
/// matcher of pattern.c.
void slipway_install_budgeted_patterns(lua_State *L);

// Function-like macros of lua.h, which Swift cannot import.
static inline void slipway_pop(lua_State *L, int n) { lua_settop(L, -(n) - 1); }
static inline void slipway_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline const char *slipway_tolstring(lua_State *L, int i, size_t *len) { return lua_tolstring(L, i, len); }
static inline int slipway_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int slipway_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void slipway_pushglobaltable(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
static inline int slipway_isinteger(lua_State *L, int i) { return lua_isinteger(L, i); }
static inline void *slipway_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int slipway_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void slipway_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline int slipway_getref(lua_State *L, int ref) { return lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
static inline void *slipway_testudata(lua_State *L, int i, const char *tname) { return luaL_testudata(L, i, tname); }
static inline int slipway_newmetatable(lua_State *L, const char *tname) { return luaL_newmetatable(L, tname); }

#endif
