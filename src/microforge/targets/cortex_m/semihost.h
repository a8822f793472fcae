/* Minimal Arm semihosting for the microforge firmware test harness: the handful of calls it needs,
 * issued with the M-profile trap (BKPT 0xAB) and serviced by the debugger or emulator (QEMU with
 * -semihosting-config enable=on). Not part of the generated library. */
#ifndef MF_SEMIHOST_H
#define MF_SEMIHOST_H

#include <stdint.h>

#define MF_SH_OPEN 0x01
#define MF_SH_CLOSE 0x02
#define MF_SH_WRITE0 0x04
#define MF_SH_WRITE 0x05
#define MF_SH_READ 0x06
#define MF_SH_EXIT_EXTENDED 0x20
#define MF_SH_APPLICATION_EXIT 0x20026

#define MF_SH_MODE_RB 1
#define MF_SH_MODE_WB 5

static inline int32_t mf_semihost(int32_t op, const void *arg) {
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline uint32_t mf_sh_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

/* Returns a handle, or -1. */
static inline int32_t mf_sh_open(const char *path, uint32_t mode) {
    uint32_t block[3];
    block[0] = (uint32_t)(uintptr_t)path;
    block[1] = mode;
    block[2] = mf_sh_strlen(path);
    return mf_semihost(MF_SH_OPEN, block);
}

static inline void mf_sh_close(int32_t handle) {
    uint32_t block[1];
    block[0] = (uint32_t)handle;
    (void)mf_semihost(MF_SH_CLOSE, block);
}

/* Both return the number of bytes NOT transferred (0 = complete). */
static inline uint32_t mf_sh_read(int32_t handle, void *buf, uint32_t n) {
    uint32_t block[3];
    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = n;
    return (uint32_t)mf_semihost(MF_SH_READ, block);
}

static inline uint32_t mf_sh_write(int32_t handle, const void *buf, uint32_t n) {
    uint32_t block[3];
    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = n;
    return (uint32_t)mf_semihost(MF_SH_WRITE, block);
}

static inline void mf_sh_print(const char *text) {
    (void)mf_semihost(MF_SH_WRITE0, text);
}

/* Ends the emulation; QEMU exits with `code`. */
static inline void mf_sh_exit(uint32_t code) {
    uint32_t block[2];
    block[0] = MF_SH_APPLICATION_EXIT;
    block[1] = code;
    (void)mf_semihost(MF_SH_EXIT_EXTENDED, block);
    for (;;) {
    }
}

#endif
