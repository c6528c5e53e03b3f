#include <libdeflate.h>

// The version is a macro; layers carry it into the compressed-chunk cache's namespace, since
// another libdeflate release may compress the same bytes differently.
static inline const char *slipway_libdeflate_version(void) { return LIBDEFLATE_VERSION_STRING; }
