/* TEST STAND-IN for the Ethos-U driver's public header: declares only the three functions
 * microforge's generated library calls, as the ethos-u-core-driver documents them. It is not the
 * driver and contains none of its code; ethosu_stand_in.c implements the functions for tests. */
#ifndef ETHOSU_DRIVER_H
#define ETHOSU_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct ethosu_driver;

struct ethosu_driver *ethosu_reserve_driver(void);
void ethosu_release_driver(struct ethosu_driver *drv);
int ethosu_invoke_v3(struct ethosu_driver *drv, const void *custom_data_ptr,
                     const int custom_data_size, const uint64_t *base_addr,
                     const size_t *base_addr_size, const int num_base_addr, void *user_arg);

#endif /* ETHOSU_DRIVER_H */
