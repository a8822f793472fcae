"""The model card: what was trained on what, held-out accuracy, confusion matrix, deployment
figures from ``compile`` (markdown beside the JSON)."""

from __future__ import annotations

from pathlib import Path


def confusion_table(labels: list[str], matrix: list[list[int]]) -> list[str]:
    """A markdown table, rows = truth, columns = prediction."""
    lines = ["| truth \\ predicted | " + " | ".join(labels) + " |",
             "|---|" + "---:|" * len(labels)]
    lines += [f"| {lab} | " + " | ".join(str(v) for v in row) + " |" for lab, row in zip(labels, matrix)]
    return lines


def write_card(path: Path, card: dict) -> None:
    d, test, dep = card["data"], card["test"], card["deploy"]
    fe = card["front_end"]
    voices = [v for v in d["held_out_speakers"] if "/" not in v]  # a file path: no speaker known
    files = len(d["held_out_speakers"]) - len(voices)
    lines = [
        f"# Model card: {', '.join(card['labels'])}",
        "",
        f"- architecture: {card['arch']} ({card['parameters']:,} parameters), {card['epochs_run']} "
        f"epochs (early stopping), seed {card['seed']}",
        f"- front end: {fe['preprocessor']} ({fe['window_samples']}-sample windows every "
        f"{fe['stride_ms']:g} ms at {fe['sample_rate']} Hz, {fe['frames']}x{fe['features']} int8 features)"
        + (f", run over {fe['warmup_clips']} s of other clips of the same split before each clip "
           "(warm-up, as in a stream)" if fe.get("warmup_clips") else ""),
        f"- data: {d['path']}: {d['clips']} clips of 1 s; train {d['train']}, validation "
        f"{d['validation']}, test {d['test']}, split by speaker: the test clips come from "
        f"{len(voices)} voices never heard in training"
        + (f" ({', '.join(voices[:12])}{', ...' if len(voices) > 12 else ''})" if voices else "")
        + (f" and {files} files without a speaker (e.g. _silence_)" if files else "")
        + (f"; {d['context_windows']} more training windows cut at random shifts from keyword clips "
           "between other clips" if d.get("context_windows") else ""),
        "",
        "## Held-out accuracy",
        "",
        "| model | accuracy |",
        "|---|---:|",
        "| int8 (model_int8.tflite, microforge runtime, bit-exact with TFLM) | "
        f"{test['int8']['accuracy']:.2%} |",
        f"| float (model_float.tflite, microforge runtime) | {test['float']['accuracy']:.2%} |",
        f"| Keras | {test['keras']['accuracy']:.2%} |",
        "",
        "Confusion matrix of the int8 model on the held-out voices:",
        "",
        *confusion_table(card["labels"], test["int8"]["confusion"]),
        "",
        *_recognizer(card.get("recognizer") or {}),
        f"## Deployment (`microforge compile --target {dep.get('target', '?')}`)",
        "",
        f"- arena (activations): {dep.get('arena_bytes', 0):,} B; RAM total {dep.get('ram_bytes', 0):,} B",
        f"- constants (weights): {dep.get('const_bytes', 0):,} B; code {dep.get('code_bytes', 0):,} B"
        + (f"; flash {dep['flash_bytes']:,} B" if dep.get("flash_bytes") else ""),
        f"- {dep.get('macs', 0):,} MACs per inference",
    ]
    fw = dep.get("firmware") or {}
    if fw:
        lines.append("- firmware measurement: " + ", ".join(f"{k} {v}" for k, v in fw.items()
                                                          if not isinstance(v, (dict, list))))
    lines += ["", "## Time per stage (s)", "",
              ", ".join(f"{k} {v}" for k, v in card["seconds"].items()), ""]
    path.write_text("\n".join(lines))


def _recognizer(r: dict) -> list[str]:
    """The recognizer settings chosen on the validation stream, as card lines."""
    if not r:
        return []
    return ["## Recognizer (`microforge kws`, `compile --app kws`)", "",
            f"Averaging window {r['average_ms']} ms, threshold {r['threshold']}: chosen on a stream "
            f"of the validation voices ({r['keywords']} keywords between other clips, "
            f"{r.get('stream_seconds', 0):g} s): {r['found']} found, {r['wrong']} wrong label, "
            f"{r['extra']} extra detections (a wrong or extra detection counted as "
            f"{r['error_cost']:g} missed keywords). `kws --model DIR` and `compile --app kws` "
            "use these unless --average-ms / --threshold are given.", ""]
