#include <zlib.h>

// deflateInit2 is a macro. windowBits 31 = gzip wrapper; zlib then writes a fixed header
// (mtime 0, no name), which keeps compressed layers reproducible.
static inline int slipway_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
}
