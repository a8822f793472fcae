/* TEST STAND-IN for the Ethos-U driver (not the driver; no driver code). Each ethosu_invoke_v3
 * call checks what microforge's generated library passes (a reserved driver, the COP1 command
 * stream, 16-byte aligned base addresses 0..2, the sizes, the subgraph's input bytes) and then
 * writes the output bytes the NPU would produce, precomputed by microforge's runtime. Like the
 * command stream, it finds a tensor Vela placed at its offset from base address 1 (the scratch
 * region). Any mismatch makes the call fail (-1), so NAME_invoke returns -1. */
#include <string.h>

#include "ethosu_driver.h"
#include "stand_in.h"

struct ethosu_driver {
    int reserved;
};

static struct ethosu_driver stand_in_driver;
static uint32_t stand_in_next;

struct ethosu_driver *ethosu_reserve_driver(void) {
    if (stand_in_driver.reserved) {
        return NULL;
    }
    stand_in_driver.reserved = 1;
    return &stand_in_driver;
}

void ethosu_release_driver(struct ethosu_driver *drv) {
    if (drv == &stand_in_driver) {
        stand_in_driver.reserved = 0;
    }
}

static uint8_t *at(const uint64_t *base_addr, const stand_in_tensor *t) {
    return (uint8_t *)(uintptr_t)base_addr[t->base] + t->offset;
}

int ethosu_invoke_v3(struct ethosu_driver *drv, const void *custom_data_ptr,
                     const int custom_data_size, const uint64_t *base_addr,
                     const size_t *base_addr_size, const int num_base_addr, void *user_arg) {
    const stand_in_call *call;
    uint32_t k;
    (void)user_arg;
    if (drv != &stand_in_driver || !drv->reserved || stand_in_next >= stand_in_num_calls) {
        return -1;
    }
    call = &stand_in_calls[stand_in_next++];
    if (custom_data_size != call->command_stream_bytes || num_base_addr != call->num_base_addr ||
        memcmp(custom_data_ptr, "COP1", 4) != 0 || ((uintptr_t)custom_data_ptr & 15u) != 0) {
        return -1;
    }
    for (k = 0; k < 3 && k < (uint32_t)num_base_addr; ++k) {
        if ((base_addr[k] & 15u) != 0) {
            return -1;
        }
    }
    for (k = 0; k < call->num_inputs; ++k) {
        const stand_in_tensor *t = &call->inputs[k];
        if (base_addr_size[t->base] < t->offset + t->bytes ||
            memcmp(at(base_addr, t), t->data, t->bytes) != 0) {
            return -1;
        }
    }
    for (k = 0; k < call->num_outputs; ++k) {
        const stand_in_tensor *t = &call->outputs[k];
        if (base_addr_size[t->base] < t->offset + t->bytes) {
            return -1;
        }
        memcpy(at(base_addr, t), t->data, t->bytes);
    }
    return 0;
}
