#ifndef SKIFF_CLIBUV_SHIM_H
#define SKIFF_CLIBUV_SHIM_H
#include <uv.h>
#endif
