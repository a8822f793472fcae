/* Firmware test harness: reads samples from the host file mf_in.bin through semihosting, runs the
 * model on each, writes the outputs to mf_out.bin and per-inference measurements to mf_stats.bin.
 *
 * mf_in.bin:    uint32 magic, sample count, reset period (0: never), then the samples (all inputs
 *               of sample 0, all inputs of sample 1, ...).
 * mf_stats.bin: per inference uint32 SysTick value, SysTick wraps, stack bytes, return code; first
 *               one record for an empty call (the measurement's own overhead).
 *
 * Time: SysTick runs from the CPU clock; it is restarted before each call and its wraps are counted
 * by the SysTick interrupt. Under QEMU -icount the CPU clock advances with executed instructions.
 * Stack: everything between the stack limit and the caller's stack pointer is painted before the
 * call; after it, the lowest overwritten word gives the high-water mark of NAME_invoke. */
#include <stdint.h>

#include "mf_target.h"
#include "semihost.h"

#define MF_MAGIC 0x4D464657u /* "MFFW" */
#define MF_SYSTICK_RELOAD 0x00FFFFFFu /* SysTick counts RELOAD..0: a period of RELOAD + 1 */
#define MF_PAINT 0xC5ACCE55u

#define MF_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define MF_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define MF_SYST_CVR (*(volatile uint32_t *)0xE000E018u)

extern uint32_t __stack_limit[];
extern volatile uint32_t mf_systick_wraps;

typedef int (*mf_call)(void);

static int mf_empty_call(void) {
    return 0;
}

static inline uint32_t mf_current_sp(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Paints the free stack, runs `call`, and fills record[0..3]. Inlined into main so that no frame
 * of its own lies in the painted range. */
static inline __attribute__((always_inline)) void mf_measure(mf_call call, uint32_t *record) {
    volatile uint32_t *p = __stack_limit;
    const uint32_t sp = mf_current_sp();
    int rc;
    while ((uint32_t)(uintptr_t)p < sp) {
        *p++ = MF_PAINT;
    }
    __asm__ volatile("" ::: "memory");
    MF_SYST_CVR = 0u;
    mf_systick_wraps = 0u;
    rc = call();
    record[0] = MF_SYST_CVR;
    record[1] = mf_systick_wraps;
    p = __stack_limit;
    while (*p == MF_PAINT && (uint32_t)(uintptr_t)p < sp) {
        ++p;
    }
    record[2] = sp - (uint32_t)(uintptr_t)p;
    record[3] = (uint32_t)rc;
}

static int mf_fail(const char *why, int code) {
    mf_sh_print("microforge firmware: ");
    mf_sh_print(why);
    mf_sh_print("\n");
    return code;
}

int main(void) {
    uint32_t header[3];
    uint32_t record[4];
    uint32_t i, k, since_reset;
    const int32_t fin = mf_sh_open("mf_in.bin", MF_SH_MODE_RB);
    const int32_t fout = mf_sh_open("mf_out.bin", MF_SH_MODE_WB);
    const int32_t fstats = mf_sh_open("mf_stats.bin", MF_SH_MODE_WB);
    if (fin < 0 || fout < 0 || fstats < 0) {
        return mf_fail("cannot open mf_in.bin / mf_out.bin / mf_stats.bin", 2);
    }
    if (mf_sh_read(fin, header, sizeof(header)) != 0 || header[0] != MF_MAGIC) {
        return mf_fail("mf_in.bin has no valid header", 2);
    }
    MF_SYST_RVR = MF_SYSTICK_RELOAD;
    MF_SYST_CVR = 0u;
    MF_SYST_CSR = 7u; /* enable, interrupt on wrap, CPU clock */
    mf_measure(mf_empty_call, record);
    if (mf_sh_write(fstats, record, sizeof(record)) != 0) {
        return mf_fail("cannot write mf_stats.bin", 5);
    }
    since_reset = 0;
    for (i = 0; i < header[1]; ++i) {
        if (header[2] != 0u && since_reset == 0u) {
            mf_target_reset();
        }
        since_reset = header[2] != 0u && since_reset + 1u == header[2] ? 0u : since_reset + 1u;
        for (k = 0; k < mf_target_num_inputs; ++k) {
            if (mf_sh_read(fin, mf_target_inputs[k].data, mf_target_inputs[k].bytes) != 0) {
                return mf_fail("mf_in.bin ended early", 3);
            }
        }
        mf_measure(mf_target_invoke, record);
        if (record[3] != 0u) {
            return mf_fail("NAME_invoke returned an error", 4);
        }
        for (k = 0; k < mf_target_num_outputs; ++k) {
            if (mf_sh_write(fout, mf_target_outputs[k].data, mf_target_outputs[k].bytes) != 0) {
                return mf_fail("cannot write mf_out.bin", 5);
            }
        }
        if (mf_sh_write(fstats, record, sizeof(record)) != 0) {
            return mf_fail("cannot write mf_stats.bin", 5);
        }
    }
    mf_sh_close(fin);
    mf_sh_close(fout);
    mf_sh_close(fstats);
    return 0;
}
