/* pirec_heap.c - see pirec_heap.h. */
#include "pirec_heap.h"

#include <malloc.h>

int pirec_heap_keep(size_t mmap_threshold, size_t trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
}
