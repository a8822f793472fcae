/* The call of the Ethos-U driver's public API for one NPU subgraph. See mf_ethos_u.h. */
#include "mf_ethos_u.h"

#include <ethosu_driver.h>

int mf_ethos_u_invoke(const uint8_t *command_stream, int32_t command_stream_bytes,
                      uint64_t *base_addr, const size_t *base_addr_size, int32_t num_base_addr) {
    struct ethosu_driver *drv = ethosu_reserve_driver();
    int result;
    if (drv == NULL) {
        return -1;
    }
    result = ethosu_invoke_v3(drv, command_stream, (int)command_stream_bytes, base_addr,
                              base_addr_size, (int)num_base_addr, NULL);
    ethosu_release_driver(drv);
    return result == 0 ? 0 : -1;
}
