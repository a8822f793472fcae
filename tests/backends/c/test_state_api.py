"""``MF_STATE_API``: a stateful model's state saved and loaded as bytes (what the compiled host
path swaps between streams), C99 and warning-free, and a no-op on stateless models."""

from __future__ import annotations

import subprocess

import pytest

from microforge.backends.c.compiler import compile_model
from microforge.frontends import read_model
from tests.oracle import MODELS

HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "m.h"

static M_INPUT0_CTYPE in[M_INPUT0_SIZE];
static M_OUTPUT0_CTYPE a[4][M_OUTPUT0_SIZE], b[4][M_OUTPUT0_SIZE];
static unsigned char saved[1 << 16];

int main(void) {
    int i, step;
    size_t size = m_state_bytes();
    if (size > sizeof(saved)) { return 3; }
    for (step = 0; step < 3; ++step) {  /* move the state away from its initial value */
        for (i = 0; i < M_INPUT0_SIZE; ++i) { in[i] = (M_INPUT0_CTYPE)(step * 7 + i * 3); }
        m_invoke(in, a[0]);
    }
    m_save_state(saved);
    for (step = 0; step < 4; ++step) {
        for (i = 0; i < M_INPUT0_SIZE; ++i) { in[i] = (M_INPUT0_CTYPE)(step * 5 - i); }
        m_invoke(in, a[step]);
    }
    m_reset();
    m_load_state(saved);
    for (step = 0; step < 4; ++step) {
        for (i = 0; i < M_INPUT0_SIZE; ++i) { in[i] = (M_INPUT0_CTYPE)(step * 5 - i); }
        m_invoke(in, b[step]);
    }
    printf("%lu %d\n", (unsigned long)size, memcmp(a, b, sizeof(a)) == 0);
    return 0;
}
"""


@pytest.mark.parametrize("name, stateful", [("keyword_scrambled.tflite", True),
                                            ("trained_lstm_int8.tflite", True),
                                            ("hello_world_int8.tflite", False)])
def test_a_saved_state_replays_the_same_steps(tmp_path, name, stateful):
    out = tmp_path / "m"
    compile_model(read_model(MODELS / name), out, "m")
    (out / "main.c").write_text(HARNESS)
    exe = tmp_path / "run"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    "-DMF_STATE_API", f"-I{out}", *map(str, sorted(out.glob("*.c"))), "-o",
                    str(exe), "-lm"], check=True, capture_output=True)
    size, same = subprocess.run([str(exe)], check=True, capture_output=True,
                                text=True).stdout.split()
    assert (int(size) > 0) == stateful
    assert same == "1"
