"""Audio feature extraction throughput: microforge's FeatureExtractor on a batch of clips beside
tflite-micro's frame-by-frame invoke loop (micro_speech's loop: 480-sample windows every 320
samples, state kept within a clip, reset per clip). One thread everywhere.

Prints frames per second for several batch sizes and the ratio (microforge / TFLM; > 1 means
microforge is faster), and checks that both produce the same features. Times are process CPU
time (best of --repeat), which a busy shared machine disturbs less than wall-clock time;
--wall measures wall-clock time instead.
Run: .venv/bin/python benchmarks/feature_throughput.py [--clips 1 16 256] [--seconds 1] [--wall]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from microforge.apps.audio import FeatureExtractor  # noqa: E402

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
PREPROCESSORS = ["audio_preprocessor_int8.tflite", "audio_preprocessor_float.tflite"]


def clips(n: int, seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like test audio: noise of varying loudness plus a tone, int16."""
    rng = np.random.default_rng(seed)
    samples = int(16000 * seconds)
    t = np.arange(samples) / 16000
    loud = np.repeat(rng.uniform(0.05, 1, size=(n, samples // 1600 + 1)), 1600, axis=1)
    wave = rng.normal(0, 3000, size=(n, samples)) * loud[:, :samples]
    wave += 4000 * np.sin(2 * np.pi * rng.uniform(100, 3000, size=(n, 1)) * t)
    return np.clip(wave, -32768, 32767).astype(np.int16)


CLOCK = time.process_time


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = CLOCK()
        result = fn()
        best = min(best, CLOCK() - t0)
    return best, result


def tflm_loop(path: Path, audio: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_file(str(path))
    out = []
    for clip in audio:
        interp.reset()
        frames = []
        for start in range(0, clip.shape[0] - 480 + 1, 320):
            interp.set_input(clip[start : start + 480].reshape(1, 480), 0)
            interp.invoke()
            frames.append(np.array(interp.get_output(0)))
        out.append(np.stack(frames))
    return np.stack(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, nargs="+", default=[1, 16, 256])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tflm-clips", type=int, default=16, help="clips timed in the TFLM loop")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of CPU time")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    print(f"{'model':34s} {'clips':>6s} {'frames':>7s} {'microforge f/s':>15s} "
          f"{'tflm f/s':>10s} {'ratio':>6s}")
    for name in PREPROCESSORS:
        path = MODELS / name
        fx = FeatureExtractor(path)
        ref_audio = clips(args.tflm_clips, args.seconds, seed=1)
        t_tflm, ref = best_of(lambda a=ref_audio, p=path: tflm_loop(p, a), args.repeat)
        frames_tflm = ref.shape[0] * ref.shape[1]
        got = fx.extract(ref_audio)
        if got.tobytes() != ref.tobytes():
            print(f"{name}: features differ from TFLM", file=sys.stderr)
            return 1
        tflm_fps = frames_tflm / t_tflm
        for n in args.clips:
            audio = clips(n, args.seconds)
            t_mf, feats = best_of(lambda a=audio, f=fx: f.extract(a), args.repeat)
            frames = feats.shape[0] * feats.shape[1]
            fps = frames / t_mf
            print(f"{name:34s} {n:6d} {frames:7d} {fps:15.0f} {tflm_fps:10.0f} "
                  f"{fps / tflm_fps:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
