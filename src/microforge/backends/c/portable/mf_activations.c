#include "mf_activations.h"

const uint16_t mf_sigmoid_table_u16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535
};

void mf_logistic_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_logistic_s16_value(mf_lut16_prescale(input[i], p->multiplier, (int)p->shift));
    }
}

void mf_tanh_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_tanh_s16_value(mf_lut16_prescale(input[i], p->multiplier, (int)p->shift));
    }
}

static int16_t mf_clamp_s16(int64_t v, int32_t lo, int32_t hi) {
    return (int16_t)(v < lo ? lo : (v > hi ? hi : v));
}

void mf_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t scaled = mf_mbqm((int32_t)input[i] - p->zp_in, p->multiplier, (int)p->shift);
        output[i] = mf_clamp_s16((int64_t)scaled + p->zp_out, p->lo, p->hi);
    }
}

void mf_relu6_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x = input[i];
        output[i] = (int16_t)(x > p->hi ? p->hi : (x < p->lo ? p->lo : x));
    }
}

void mf_leaky_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output,
                       int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t d = (int32_t)input[i] - p->zp_in;
        int64_t v;
        if (d >= 0) {
            v = mf_mbqm(d, p->multiplier, (int)p->shift);
        } else {
            v = mf_mbqm(d, p->alpha_multiplier, (int)p->alpha_shift);
            v = p->alpha_negative ? -v : v;
        }
        output[i] = mf_clamp_s16(v + p->zp_out, p->lo, p->hi);
    }
}

#ifndef MF_VARIANT_LOGISTIC_F32
void mf_logistic_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_sigmoidf(input[i]);
    }
}
#endif

#ifndef MF_VARIANT_TANH_F32
void mf_tanh_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = tanhf(input[i]);
    }
}
#endif

void mf_relu_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x < 0.0f ? 0.0f : x;
    }
}

void mf_relu6_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x > 6.0f ? 6.0f : (x < 0.0f ? 0.0f : x);
    }
}

void mf_leaky_relu_f32(float alpha, const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * alpha;
    }
}

/* x * min(6, max(0, x + 3)) / 6, left to right in float32, as TFLM's reference. */
void mf_hard_swish_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        float t = x + 3.0f;
        t = 0.0f < t ? t : 0.0f;
        t = t < 6.0f ? t : 6.0f;
        output[i] = x * t / 6.0f;
    }
}

/* The x86 SSE2 versions of the kernels left out above (MF_VARIANT_*). */
#include "mf_activations_sse2.h"
