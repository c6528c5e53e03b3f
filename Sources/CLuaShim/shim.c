// With pattern.c (Lua's own pattern matcher, budgeted), the only code in Slipway that raises Lua
// errors (lua_error, luaL_error) or calls lua_call.
#include "CLuaShim.h"

#include <lua5.4/lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The count hook fires every SLIPWAY_HOOK_STEP VM instructions: cheap, yet a runaway loop is
// stopped within microseconds of passing its budget.
#define SLIPWAY_HOOK_STEP 1000

static slipway_dispatch_fn slipway_dispatch = NULL;

void slipway_set_dispatch(slipway_dispatch_fn fn) { slipway_dispatch = fn; }

static double slipway_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

slipway_budget *slipway_budget_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (slipway_budget *)ud;
}

// Growth fails once the budget is spent, except while a host function runs: there a failed
// allocation would longjmp through Swift frames, so it is allowed and the next allocation made
// by Lua code fails instead. Shrinking never fails (Lua requires that).
static void *slipway_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    slipway_budget *b = (slipway_budget *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        b->memory_used -= old;
        return NULL;
    }
    if (nsize > old && b->in_host == 0 && b->memory_limit != 0 &&
        b->memory_used - old + nsize > b->memory_limit) {
        if (b->limit_hit == SLIPWAY_LIMIT_NONE) b->limit_hit = SLIPWAY_LIMIT_MEMORY;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) return NULL;
    b->memory_used = b->memory_used - old + nsize;
    return block;
}

static int slipway_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "slipway: unprotected Lua error (a bug in Slipway's Lua bridge): %s\n",
            msg ? msg : "(no message)");
    abort();
    return 0;
}

// Raises `what` at the innermost Lua line: the running function, or (inside a C function such
// as string.find) the Lua code that called it.
static int slipway_raise_here(lua_State *L, const char *what) {
    lua_Debug ar;
    for (int level = 0; level < 3; level++) {
        if (lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, what);
            return lua_error(L);
        }
    }
    lua_pushstring(L, what);
    return lua_error(L);
}

static void slipway_hook(lua_State *L, lua_Debug *ar);

static const char *slipway_limit_message(const slipway_budget *b) {
    return b->limit_hit == SLIPWAY_LIMIT_MEMORY ? "memory limit exceeded"
           : b->limit_hit == SLIPWAY_LIMIT_TIME ? "time limit exceeded"
                                                : "instruction limit exceeded";
}

// Adds work to the budget; notes the limit that work went past, if any.
static void slipway_account(slipway_budget *b, long long instructions) {
    b->instructions += instructions;
    if (b->limit_hit == SLIPWAY_LIMIT_NONE) {
        if (b->instruction_limit != 0 && b->instructions > b->instruction_limit) {
            b->limit_hit = SLIPWAY_LIMIT_INSTRUCTIONS;
        } else if (b->deadline != 0 && slipway_now() > b->deadline) {
            b->limit_hit = SLIPWAY_LIMIT_TIME;
        }
    }
}

void slipway_charge(lua_State *L, long long instructions) {
    slipway_budget *b = slipway_budget_of(L);
    slipway_account(b, instructions);
    if (b->limit_hit != SLIPWAY_LIMIT_NONE) {
        lua_sethook(L, slipway_hook, LUA_MASKCOUNT, 1);
        slipway_raise_here(L, slipway_limit_message(b));
    }
}

static void slipway_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    slipway_budget *b = slipway_budget_of(L);
    slipway_account(b, SLIPWAY_HOOK_STEP);
    if (b->limit_hit != SLIPWAY_LIMIT_NONE) {
        // Keep raising at every instruction, so a recipe's own pcall cannot swallow the limit.
        lua_sethook(L, slipway_hook, LUA_MASKCOUNT, 1);
        slipway_raise_here(L, slipway_limit_message(b));
    }
}

lua_State *slipway_newstate(size_t memory_limit) {
    slipway_budget *b = calloc(1, sizeof(slipway_budget));
    if (b == NULL) return NULL;
    b->memory_limit = memory_limit;
    lua_State *L = lua_newstate(slipway_alloc, b);
    if (L == NULL) {
        free(b);
        return NULL;
    }
    lua_atpanic(L, slipway_panic);
    lua_sethook(L, slipway_hook, LUA_MASKCOUNT, SLIPWAY_HOOK_STEP);
    return L;
}

void slipway_close(lua_State *L) {
    slipway_budget *b = slipway_budget_of(L);
    lua_close(L);
    free(b);
}

void slipway_arm(lua_State *L, long long instruction_limit, double seconds) {
    slipway_budget *b = slipway_budget_of(L);
    b->instructions = 0;
    b->instruction_limit = instruction_limit;
    b->deadline = seconds > 0 ? slipway_now() + seconds : 0;
    b->limit_hit = SLIPWAY_LIMIT_NONE;
    lua_sethook(L, slipway_hook, LUA_MASKCOUNT, SLIPWAY_HOOK_STEP);
}

static void slipway_remove(lua_State *L, const char *table, const char *field) {
    if (table == NULL) {
        lua_pushnil(L);
        lua_setglobal(L, field);
        return;
    }
    if (lua_getglobal(L, table) == LUA_TTABLE) {
        lua_pushnil(L);
        lua_setfield(L, -2, field);
    }
    lua_pop(L, 1);
}

void slipway_open_safe_libs(lua_State *L) {
    static const luaL_Reg safe[] = {
        {LUA_GNAME, luaopen_base},          {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},    {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},    {LUA_COLIBNAME, luaopen_coroutine},
        {NULL, NULL},
    };
    for (const luaL_Reg *lib = safe; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    slipway_remove(L, NULL, "dofile");
    slipway_remove(L, NULL, "loadfile");
    slipway_remove(L, NULL, "collectgarbage");
    slipway_remove(L, "string", "dump");
    // Pattern matching that counts against the budget (pattern.c) instead of the stock one.
    if (lua_getglobal(L, LUA_STRLIBNAME) == LUA_TTABLE) slipway_install_budgeted_patterns(L);
    lua_pop(L, 1);
    // `load` is re-provided by the prelude as a text-only wrapper around this one.
    lua_getglobal(L, "load");
    lua_setfield(L, LUA_REGISTRYINDEX, "slipway.rawload");
    slipway_remove(L, NULL, "load");
}

int slipway_load_text(lua_State *L, const char *buffer, size_t length, const char *chunkname) {
    return luaL_loadbufferx(L, buffer, length, chunkname, "t");
}

static int slipway_message_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            msg = lua_tostring(L, -1);
        } else {
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
    }
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "slipway.traceback");
    lua_pushstring(L, msg);
    return 1;
}

int slipway_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;  // the function's index
    lua_pushcfunction(L, slipway_message_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

static int slipway_trampoline(lua_State *L) {
    void *owner = lua_touserdata(L, lua_upvalueindex(1));
    int function = (int)lua_tointeger(L, lua_upvalueindex(2));
    if (slipway_dispatch == NULL || owner == NULL) return luaL_error(L, "slipway: host function unavailable");
    slipway_budget *b = slipway_budget_of(L);
    b->in_host++;
    int results = slipway_dispatch(L, owner, function);
    b->in_host--;
    if (results == SLIPWAY_RAISE) return lua_error(L);
    return results;
}

void slipway_push_host_function(lua_State *L, void *owner, int function) {
    lua_pushlightuserdata(L, owner);
    lua_pushinteger(L, function);
    lua_pushcclosure(L, slipway_trampoline, 2);
}

int slipway_where(lua_State *L, int level, char *buffer, size_t buffer_length) {
    lua_Debug ar;
    if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "Sl", &ar)) return -1;
    if (buffer_length > 0) {
        // The full chunk name: short_src would elide long paths with "...".
        const char *name = (ar.source && ar.source[0] == '@') ? ar.source + 1 : ar.short_src;
        strncpy(buffer, name, buffer_length - 1);
        buffer[buffer_length - 1] = '\0';
    }
    return ar.currentline;
}

int slipway_function_where(lua_State *L, int index, char *buffer, size_t buffer_length) {
    lua_Debug ar;
    lua_pushvalue(L, index);
    if (!lua_getinfo(L, ">S", &ar)) return -1;
    if (buffer_length > 0) {
        const char *name = (ar.source && ar.source[0] == '@') ? ar.source + 1 : ar.short_src;
        strncpy(buffer, name, buffer_length - 1);
        buffer[buffer_length - 1] = '\0';
    }
    return ar.linedefined;
}
