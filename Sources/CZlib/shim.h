#include <zlib.h>

// deflateInit2 is a macro. Raw deflate (no wrapper): the blocks of a parallel gzip stream,
// which Slipway frames itself with a fixed header (mtime 0, no name) to keep layers reproducible.
static inline int slipway_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
