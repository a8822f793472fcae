/* One Ethos-U NPU subgraph (Vela's `ethos-u` custom operator) handed to the Ethos-U driver.
 * Emitted by backends/c/ops/ethos_u.py. Needs the user's ethos-u-core-driver: its public header
 * ethosu_driver.h (the Makefile's ETHOSU_DRIVER_DIR) and its library at link time. */
#ifndef MF_ETHOS_U_H
#define MF_ETHOS_U_H

#include "mf_common.h"

#include <stddef.h>

/* TFLM's Ethos-U kernel passes at most this many base addresses; so does microforge. */
#define MF_ETHOS_U_MAX_BASE_ADDRS 8

/* Runs one command stream: reserves a driver, calls ethosu_invoke_v3 with the base addresses
 * (0: flash, 1: scratch = the arena's Vela region, 2: fast scratch, then the subgraph's inputs and
 * outputs, as TFLM's kernel orders them) and releases the driver. Returns 0, or -1 when no driver
 * could be reserved or the driver reported an error. */
int mf_ethos_u_invoke(const uint8_t *command_stream, int32_t command_stream_bytes,
                      uint64_t *base_addr, const size_t *base_addr_size, int32_t num_base_addr);

#endif /* MF_ETHOS_U_H */
