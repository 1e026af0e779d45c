#ifndef SKIFF_CRC32C_H
#define SKIFF_CRC32C_H
#include <stddef.h>
#include <stdint.h>

// 1 when this CPU has SSE4.2's crc32 instruction (CRC32C, the Castagnoli polynomial), else 0.
int skiff_crc32c_hardware_available(void);

// Extends the CRC32C register `state` (not inverted: callers invert before and after) over
// `count` bytes with the crc32 instruction. Call only when skiff_crc32c_hardware_available().
uint32_t skiff_crc32c_hardware(uint32_t state, const void *bytes, size_t count);

#endif
