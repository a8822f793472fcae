/* Startup code for the microforge firmware test harness on Cortex-M (QEMU MPS2/MPS3 boards):
 * vector table, reset handler (copy .data, zero .bss, enable the FPU / MVE coprocessors, run
 * main), a SysTick handler that counts timer wraps, and fault handlers that report and exit. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __stack_top[];

int main(void);

volatile uint32_t mf_systick_wraps;

#define MF_CPACR (*(volatile uint32_t *)0xE000ED88u)

void mf_reset_handler(void) {
    volatile uint32_t *dst = __data_start;
    const volatile uint32_t *src = __data_load;
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    dst = __bss_start;
    while (dst < __bss_end) {
        *dst++ = 0;
    }
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    MF_CPACR |= 0xFu << 20; /* CP10 and CP11: full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    mf_sh_exit((uint32_t)main());
}

void mf_systick_handler(void) {
    mf_systick_wraps = mf_systick_wraps + 1u;
}

static void mf_fault_handler(void) {
    mf_sh_print("microforge firmware: CPU fault\n");
    mf_sh_exit(70);
}

static void mf_unexpected_handler(void) {
    mf_sh_print("microforge firmware: unexpected exception\n");
    mf_sh_exit(71);
}

typedef void (*mf_vector)(void);

__attribute__((section(".vectors"), used)) const mf_vector mf_vectors[16] = {
    (mf_vector)(uintptr_t)__stack_top,
    mf_reset_handler,
    mf_unexpected_handler, /* NMI */
    mf_fault_handler,      /* HardFault */
    mf_fault_handler,      /* MemManage */
    mf_fault_handler,      /* BusFault */
    mf_fault_handler,      /* UsageFault */
    mf_fault_handler,      /* SecureFault (v8-M) */
    0,
    0,
    0,
    mf_unexpected_handler, /* SVCall */
    mf_unexpected_handler, /* DebugMonitor */
    0,
    mf_unexpected_handler, /* PendSV */
    mf_systick_handler,
};
