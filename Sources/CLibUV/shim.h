#ifndef SKIFF_CLIBUV_SHIM_H
#define SKIFF_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/prctl.h>

// Names the calling thread (at most 15 bytes are kept) so perf and top -H show loop names.
static inline void skiff_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

#endif
