#include <archive.h>
#include <archive_entry.h>

// File-type constants are cast macros Swift cannot import.
static inline unsigned int slipway_ae_ifreg(void) { return AE_IFREG; }
static inline unsigned int slipway_ae_ifdir(void) { return AE_IFDIR; }
static inline unsigned int slipway_ae_iflnk(void) { return AE_IFLNK; }
static inline unsigned int slipway_ae_ifchr(void) { return AE_IFCHR; }
static inline unsigned int slipway_ae_ifblk(void) { return AE_IFBLK; }
static inline unsigned int slipway_ae_ififo(void) { return AE_IFIFO; }
static inline unsigned int slipway_ae_ifsock(void) { return AE_IFSOCK; }

// Extended attributes (overlayfs opaque directories) travel with the layer code; Swift's Glibc
// module does not export <sys/xattr.h>.
#include <sys/xattr.h>
