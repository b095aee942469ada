/* pirec_heap.h - glibc's malloc settings, which Swift's Glibc module does not export. */
#ifndef PIREC_HEAP_H
#define PIREC_HEAP_H

#include <stddef.h>

/* Serves allocations below `mmap_threshold` bytes from the heap and keeps up to
 * `trim_threshold` bytes of freed heap; returns 0 when glibc refused either. */
int pirec_heap_keep(size_t mmap_threshold, size_t trim_threshold);

#endif
