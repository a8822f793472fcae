/* Interface between the fixed firmware harness and the per-model glue (mf_target_model.c, written
 * by microforge for each compiled model). */
#ifndef MF_TARGET_H
#define MF_TARGET_H

#include <stdint.h>

typedef struct {
    void *data;
    uint32_t bytes;
} mf_target_buffer;

extern const mf_target_buffer mf_target_inputs[];
extern const mf_target_buffer mf_target_outputs[];
extern const uint32_t mf_target_num_inputs;
extern const uint32_t mf_target_num_outputs;

/* Calls NAME_invoke on the buffers above / NAME_reset. */
int mf_target_invoke(void);
void mf_target_reset(void);

#endif
