/* int8-input elementwise operators as 256-entry tables (built from the runtime's own kernel). */
#ifndef MF_LUT_H
#define MF_LUT_H

#include "mf_common.h"

void mf_lut_s8_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t n);
void mf_lut_s8_u8(const uint8_t *table, const int8_t *input, uint8_t *output, int32_t n);
void mf_lut_s8_s16(const int16_t *table, const int8_t *input, int16_t *output, int32_t n);
void mf_lut_s8_s32(const int32_t *table, const int8_t *input, int32_t *output, int32_t n);
void mf_lut_s8_f32(const float *table, const int8_t *input, float *output, int32_t n);

#endif
