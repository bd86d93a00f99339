"""The model card (README.md in a generator's folder), rendered from its manifest alone, so
the card and manifest.json can never disagree. Export writes it without quality evidence;
evaluate rewrites it once the manifest holds metrics."""
import os

from progress import fmt

KEY_SETTINGS = ["resolution", "latent", "minutes", "kimg", "batch", "lr", "r1", "mix", "ema_kimg", "fade_kimg", "seed",
                "threads", "images_in_dataset", "images_in_training", "held_out", "g_params", "d_params",
                "gflops_per_image", "loss", "augment", "optimizer"]


def _fig(folder: str, name: str, alt: str) -> str:
    return f"![{alt}]({name})\n" if os.path.exists(os.path.join(folder, name)) else f"({name} not made yet)\n"


def _pct(x) -> str:
    return f"{x * 100:.1f}%" if isinstance(x, (int, float)) else "n/a"


def _times(x) -> str:
    return f"{x:.2f}x" if isinstance(x, (int, float)) else "n/a"


def _judge(j: dict) -> list:
    """The judge's figures (models/tools/judge.py): Fréchet distance, detail, both eyes."""
    if not j:
        return []
    n = j.get("n", "?")
    lines = ["### Against held-out photos: Fréchet distance, detail, both eyes", "",
             f"Measured on {j.get('evaluatedAt', '?')}. {j.get('method', '')}", "",
             "| size | Fréchet distance, generated vs held-out | real vs real (floor) | generated / floor |",
             "| --- | --- | --- | --- |"]
    if j.get("heldOutSeenInTraining"):
        lines[2:2] = ["This model's training did not hold these photos out (it trained on every curated photo), so "
                      "for it they are training photos; the figures still compare with other models' at the same N.",
                      ""]
    for size, f in sorted(j.get("frechet", {}).items(), key=lambda kv: int(kv[0])):
        over = f.get("overReal")
        lines.append(f"| {size} px | {f['generated']:.2f} ({n} vs {n}) | {f['realVsReal']:.2f} ({n} vs {n}) | "
                     f"{over if over is not None else 'n/a'} |")
    d = j.get("detail")
    if d:
        lines += ["", f"Detail at {d['size']} px (RMS Laplacian, median): generated {d['generated']['median']:.4f}, "
                      f"real {d['real']['median']:.4f}: **{d['ratio']:.2f}x** the real photos' "
                      f"({'softer' if d['ratio'] < 1 else 'as sharp or sharper'})."]
    e = j.get("bothEyes")
    if e:
        lines += ["", f"Both eyes found at {e['size']} px: generated **{_pct(e['generated'])}** of {e['n']}, held-out "
                      f"real {_pct(e['real'])}: {_times(e.get('ratio'))} the real rate (a face at all: generated "
                      f"{_pct(e['faceGenerated'])}, real {_pct(e['faceReal'])}). {e.get('method', '')}."]
    return lines + [""]


def _stack(folder: str, st: dict) -> list:
    """The stacked generator's figures: this generator, then its face stage, as the live path runs them."""
    if not st:
        return []
    t = st.get("faceTraining", {})
    lines = [f"## The stack: this generator, then the face stage `{st['face']}` ({st['size']} px)", "",
             f"Seeds 0..{st['samples'] - 1} through generator.onnx and the face stage as the server runs them "
             f"(server/stages/face.ts: enlarged linearly to the stage's input size, then lifted x2); the face stage "
             f"trained {t.get('steps') or 0:,} steps, {t.get('hours') or 0} h. The judge below sees {st['size']} px "
             "faces, so its detail and eyes are the stack's own, not an upscale's.", ""]
    lines += [line.replace("### Against held-out photos", "### The stack against held-out photos", 1)
              for line in _judge(st.get("judge"))]
    nov = st.get("novelty")
    if nov:
        lines += ["### The stack's novelty", "", nov.get("verdict", ""), ""]
    lines += ["### The stack's samples (seeds 0-15)", "", _fig(folder, "stack-samples.png", "4x4 grid through the stack"),
              "### The stack's interpolation", "", _fig(folder, "stack-interpolation.png", "slerp strips through the stack"),
              ""]
    if st.get("print512Seed") is not None:
        lines += ["### A print at 512 px, 1:1", "",
                  f"Seed {st['print512Seed']} as `portraits render --seed {st['print512Seed']} --size 512` makes it: the "
                  "generator at the gallery's default truncation, the face stage to 256 px, then one `esrgan-medium` x2 "
                  "pass; shown at its own pixels.", "", _fig(folder, "stack-512.png", "a 512 px print, 1:1"), ""]
    return lines


def _quality(folder: str, m: dict) -> list:
    q = m.get("metrics")
    if not q:
        return ["## Quality evidence", "",
                f"Not evaluated yet: run `npx portraits evaluate --model {folder} --data DATA_DIR`.", ""]
    face, nov, div = q.get("faceRate", {}), q.get("novelty", {}), q.get("diversity", {})
    lines = ["## Quality evidence", ""]
    # `evaluate --only-judge` writes the judge alone: no face rate, novelty or sample count to speak of.
    if q.get("evaluatedAt"):
        lines += [f"Measured by `portraits evaluate` on {q['evaluatedAt']} from generator.onnx "
                  f"(onnxruntime-node), latents from seeds 0..{q.get('samples', '?') - 1 if isinstance(q.get('samples'), int) else '?'} "
                  "through common/latent.ts seedToLatent.", ""]
    lines += _judge(q.get("judge"))
    if face:
        lines += ["### Face rate", "",
                  f"{face.get('method', '')}", "",
                  "| detector | generated | real training photos | generated / real |",
                  "| --- | --- | --- | --- |"]
        for name, d in face.get("detectors", {}).items():
            lines.append(f"| {name} | {_pct(d['generated'])} of {d['n']} | {_pct(d['real'])} of {d['n']} | "
                         f"{d['ratio']:.2f} |")
        target = face.get("target")
        if target:
            lines += ["", f"Target: generated >= {target} x real on the primary detector ({face.get('primary')}): "
                          f"**{'met' if face.get('targetMet') else 'NOT met'}**."]
        lines.append("")
    if nov:
        lines += ["### Novelty (is it copying training photos?)", "", nov.get("method", ""), "",
                  "| nearest-photo distance | generated -> training set | real photo -> rest of training set |",
                  "| --- | --- | --- |"]
        g, r = nov.get("generated", {}), nov.get("realBaseline", {})
        for key in ["min", "p1", "p5", "median", "mean"]:
            if key in g:
                lines.append(f"| {key} | {g[key]:.3f} | {r.get(key, float('nan')):.3f} |")
        lines += ["", f"{nov.get('verdict', '')}", "",
                  "The 8 generated faces closest to any training photo (left: generated, right: its nearest "
                  "training photo; UTKFace crops at 64 px, shown as evidence under the data terms above):", "",
                  _fig(folder, "nearest.png", "closest generated/real pairs")]
    if div:
        lines += ["### Diversity (mode-collapse check)", "", div.get("method", ""), "",
                  "| pairwise distance | generated | real | generated / real |", "| --- | --- | --- | --- |"]
        for key, d in div.get("metrics", {}).items():
            lines.append(f"| {key} mean (std) | {d['generated']['mean']:.3f} ({d['generated']['std']:.3f}) | "
                         f"{d['real']['mean']:.3f} ({d['real']['std']:.3f}) | {d['ratio']:.2f} |")
        lines += ["", div.get("verdict", ""), ""]
    lines += ["### Samples", "", _fig(folder, "samples.png", "8x8 sample grid, seeds 0-63"),
              "### Interpolation", "",
              "Each row walks from one seed to the next by spherical interpolation (common/latent.ts slerp), "
              "as the installation's walk does.", "", _fig(folder, "interpolation.png", "slerp interpolation strips")]
    return lines + _stack(folder, q.get("stack"))


def _style_inputs(g: dict) -> list:
    st = g.get("style")
    if not st:
        return []
    groups = ", ".join(f"{name} {v['first']}-{v['last']} ({'/'.join(str(r) for r in v['resolutions'])} px: "
                       f"{v['description']})" for name, v in st["groups"].items())
    return [f"- Style inputs (a W space of {st['wSize']} values, {st['layers']} layers): `{st['psi']}` [N, 1] "
            f"truncation ({st['truncation']}); `{st['mixInput']}` [N, {g.get('latentSize')}] a second latent and "
            f"`{st['mixFrom']}` [N, 1] the crossover ({st['mixing']}). Layer groups: {groups}."]


def _style_figures(folder: str, g: dict, evaluated: bool) -> list:
    if not g.get("style"):
        return []
    # Until `portraits evaluate` redraws samples.png from seeds 0-63 (and shows it below), it is export's grid.
    samples = [] if evaluated else ["Samples at truncation 0.7 (random latents, torch seed 0):", "",
                                    _fig(folder, "samples.png", "samples")]
    return ["## Truncation and style mixing", "",
            "Rows are faces; columns run from truncation 0 (the average face) through 0.25, 0.5, 0.7, 0.85 to 1 "
            "(as trained):", "", _fig(folder, "truncation.png", "truncation from 0 to 1"),
            "The top row are other faces; each following row is a face (left) that takes one group of styles from "
            "them: coarse (pose, face shape), middle (features, with the fine styles), fine (colours, texture). "
            "Truncation 0.7:", "", _fig(folder, "mixing.png", "style mixing"), *samples, ""]


def write_card(folder: str, m: dict) -> None:
    t = m.get("training", {})
    s = t.get("settings", {})
    lic = m["licence"]
    wall = t.get("wallSeconds")
    lines = [f"# {m.get('name', m['id'])}", "", m.get("description", ""), "",
             "## Terms of use", "",
             f"**{lic.get('data', '')}**", "", lic["model"], ""]
    for d in lic.get("datasets", []):
        lines.append(f"- {d['name']}{' (' + d['source'] + ')' if d.get('source') else ''}, "
                     f"{d.get('images', '?'):,} images after curation: {d['terms']}")
    g = m.get("generator", {})
    lines += ["", "## Files", "",
              f"- `{g.get('file', 'generator.onnx')}`: input `{g.get('input')}` [N, {g.get('latentSize')}] float32 "
              f"standard normal; output `{g.get('output')}` [N, 3, {g.get('resolution')}, {g.get('resolution')}] "
              f"float32 RGB in [{g.get('range', [0, 0])[0]}, {g.get('range', [0, 0])[1]}], NCHW. ONNX opset 13.",
              *_style_inputs(g),
              "- `reference.json`: torch outputs for three fixed latents, which any runtime must reproduce.",
              f"- The critic's trunk (dream layers) is the sibling model `{m.get('related', {}).get('critic', '?')}`.",
              "- `manifest.json`: all of the above, machine-readable (schema: common/manifest.ts).", "",
              "## Training", "",
              f"Run `{t.get('run')}` on `{t.get('data')}`: {t.get('steps', 0):,} steps, "
              f"{t.get('imagesShown', 0):,} images shown, wall time "
              f"{fmt(wall) if isinstance(wall, (int, float)) else 'n/a'} on a 2-core CPU"
              f"{'' if t.get('complete') else ' (**unfinished run**: exported from a periodic checkpoint)'}.", "",
              "| setting | value |", "| --- | --- |"]
    for k in KEY_SETTINGS:
        if k in s:
            v = s[k]
            lines.append(f"| {k} | {f'{v:,}' if isinstance(v, int) and not isinstance(v, bool) else v} |")
    if s.get("phases"):
        ph = ", ".join(f"{p['res']}px{' fade' if p['fade'] else ''} {p.get('seconds', p.get('images'))}"
                       f"{'s' if 'seconds' in p else ' img'}" for p in s["phases"])
        lines.append(f"| phases | {ph} |")
    lines += ["", "Loss curves (critic D, generator G; running mean; grey lines mark resolution changes):", "",
              _fig(folder, "loss.png", "training loss curves"), ""]
    lines += _style_figures(folder, g, bool(m.get("metrics")))
    lines += _quality(folder, m)
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
