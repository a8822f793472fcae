/* TEST STAND-IN: the NPU traffic ethosu_stand_in.c expects, one entry per ethosu_invoke_v3 call
 * in order. tests/builders/npu.py writes the table (stand_in_calls.c) from microforge's numpy
 * runtime running the original operators each NPU subgraph replaces. */
#ifndef STAND_IN_H
#define STAND_IN_H

#include <stdint.h>

typedef struct {
    uint32_t base;         /* base address index */
    uint32_t offset;       /* bytes from it (Vela's offset inside the scratch region, base 1) */
    uint32_t bytes;
    const uint8_t *data;   /* expected input bytes / output bytes to write */
} stand_in_tensor;

typedef struct {
    int32_t command_stream_bytes;
    int32_t num_base_addr;
    uint32_t num_inputs, num_outputs;
    const stand_in_tensor *inputs;   /* checked byte for byte */
    const stand_in_tensor *outputs;  /* written, as the NPU would */
} stand_in_call;

extern const stand_in_call stand_in_calls[];
extern const uint32_t stand_in_num_calls;

#endif /* STAND_IN_H */
