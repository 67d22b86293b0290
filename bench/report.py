"""The benchmark's results as markdown tables (the README's Performance section)."""
from __future__ import annotations


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ratio(ours: float | None, baseline: float | None) -> str:
    if not ours or not baseline:
        return ""
    return f"{ours / baseline:.2f}"


def _failed(section: dict) -> str | None:
    return f"_not measured: {section['error']}_" if "error" in section else None


def render(results: dict) -> str:
    meta = results["meta"]
    out = [f"Measured {meta['date']} on {meta['cpus']} CPUs ({meta['cpu_model']}), load average "
           f"{meta['load_before']:.2f} before / {meta['load_after']:.2f} after (above ~0.5 the figures are "
           f"contended); model {meta['model']}, commit {meta['commit']}, openvino {meta['openvino']}, "
           f"onnxruntime {meta['onnxruntime']}, "
           f"tensorflow {meta['tensorflow']}; sample {meta['sample']}; "
           f"{'--quick, ' if meta['quick'] else ''}command `{meta['command']}`."]

    rt = results["runtimes"]
    served = meta["served_runtime"]
    out.append("\n**Model only** (one forward pass; p50 in ms; batch 16 per batch):\n")
    labels = {"openvino": "OpenVINO, model.onnx (ours)", "onnx": "ONNX Runtime, model.onnx (ours)",
              "tensorflow": "SavedModel, tf.saved_model.load serve (ours)",
              "baseline": "baseline: TFSMLayer in keras.Sequential, direct call"}
    labels[served] = labels[served].replace("(ours)", "(ours, served)")
    base = rt.get("baseline", {}).get("model_only", {})
    fastest = min((m["model_only"]["batch_1"]["p50_ms"] for m in rt.values() if "model_only" in m), default=None)
    rows = []
    for key, label in labels.items():
        m = rt.get(key, {}).get("model_only")
        if m:
            b1, b16 = m["batch_1"]["p50_ms"], m["batch_16"]["p50_ms"]
            rows.append([label, b1, m["batch_1"]["p95_ms"], b16, round(b16 / 16, 1),
                         _ratio(b1, base.get("batch_1", {}).get("p50_ms")), _ratio(b1, fastest)])
        else:
            rows.append([label, _failed(rt.get(key, {"error": "missing"}))])
    out.append(_table(["runtime", "batch 1 p50", "batch 1 p95", "batch 16", "per image in batch 16",
                       "batch 1 vs baseline", "batch 1 vs fastest"], rows))

    out.append("\n**End to end in one process** (encoded PNG bytes -> head measurement; ms per image):\n")
    base_e2e = rt.get("baseline", {}).get("end_to_end", {}).get("baseline", {}).get("p50_ms")
    rows = []
    for key in ("baseline", served, *(k for k in labels if k not in ("baseline", served))):
        for name, s in rt.get(key, {}).get("end_to_end", {}).items():
            label = {"baseline": "baseline: PIL resize + grayscale, TFSMLayer, no flip TTA",
                     served: f"ours, {served} (as served)"}.get(name, f"ours, {name}")
            rows.append([label, s["p50_ms"], s["p95_ms"], _ratio(s["p50_ms"], base_e2e)])
    out.append(_table(["path", "p50", "p95", "vs baseline"], rows))

    http = results["http"]
    out.append(f"\n**Over HTTP** (gunicorn, {served}, `POST /` JSON, one 800x540 PNG; ms; req/s):\n")
    if _failed(http):
        out.append(_failed(http))
    else:
        rows = [[c["workers"], c["threads"], c["model_threads"], "yes" if run["overlay"] else "no", run["clients"],
                 run["p50_ms"], run["p95_ms"], run["requests_per_s"]]
                for c in http["configs"] for run in c["runs"]]
        out.append(_table(["workers", "threads", "FETALHC_THREADS", "overlay", "clients", "p50", "p95", "req/s"],
                          rows))

    st = results["startup"]
    out.append("\n**Start to first answer and memory** (one process / one gunicorn worker):\n")
    rows = []
    for key, label in (("openvino", "ours, gunicorn 1 worker, FETALHC_RUNTIME=openvino"),
                       ("onnx", "ours, gunicorn 1 worker, FETALHC_RUNTIME=onnx"),
                       ("tensorflow", "ours, gunicorn 1 worker, FETALHC_RUNTIME=tensorflow"),
                       ("baseline", "baseline process (import TF + Keras, TFSMLayer, one image)")):
        s = st.get(key, {})
        if "error" in s:
            rows.append([label, _failed(s)])
            continue
        rows.append([label, s.get("health_s", "n/a"), s.get("first_answer_s"), s.get("answers"),
                     s.get("rss_mb"), s.get("master_rss_mb", "n/a")])
    out.append(_table(["process", "start -> /health 200 (s)", "start -> first measurement (s)",
                       "answers before RSS", "RSS (MB)", "gunicorn master RSS (MB)"], rows))

    batch = results["batch"]
    out.append("\n**Batch `measure`** (`fetalhc.inference.batch.measure_files`, HC18 training images, "
               "including model load and pool start):\n")
    out.append(_failed(batch) or _table(
        ["workers", "images", "measured", "seconds", "images/s"],
        [[b["workers"], b["images"], b["ok"], b["seconds"], b["images_per_s"]] for b in batch["runs"]]))

    out.append("\n**Side by side** (ours / baseline: below 1 is better for ours):\n")
    rows = [[name, b, o, _ratio(o, b)] for name, b, o in results["side_by_side"]]
    out.append(_table(["figure", "baseline", f"ours ({served})", "ours / baseline"], rows))
    return "\n".join(out) + "\n"
