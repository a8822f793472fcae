#include "mf_lut.h"

/* Each element is read before it is written, so input and output may be the same bytes when both
 * are one byte wide (the planner allows in place for int8 -> int8/uint8 only). */
#define MF_LUT_BODY                                  \
    int32_t i;                                       \
    for (i = 0; i < n; ++i) {                        \
        output[i] = table[(int32_t)input[i] + 128];  \
    }

void mf_lut_s8_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t n) {
    MF_LUT_BODY
}
void mf_lut_s8_u8(const uint8_t *table, const int8_t *input, uint8_t *output, int32_t n) {
    MF_LUT_BODY
}
void mf_lut_s8_s16(const int16_t *table, const int8_t *input, int16_t *output, int32_t n) {
    MF_LUT_BODY
}
void mf_lut_s8_s32(const int32_t *table, const int8_t *input, int32_t *output, int32_t n) {
    MF_LUT_BODY
}
void mf_lut_s8_f32(const float *table, const int8_t *input, float *output, int32_t n) {
    MF_LUT_BODY
}
