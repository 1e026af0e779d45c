#ifndef SKIFF_CPROTOBUFC_SHIM_H
#define SKIFF_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
