"""Quality evidence for a generator model folder: face rate, novelty, diversity, figures.

Faces are rendered from OUT/generator.onnx with onnxruntime-node (models/eval/generate.ts),
the runtime the installation uses, from seeds 0..N-1 via common/latent.ts. Then:
  face rate   @vladmandic/face-api detectors (models/eval/face-rate.ts) on --n generated faces
              and --n random training photos at the model's resolution, the same treatment for both;
              target: generated >= --target x real
  novelty     each of --novelty generated faces against EVERY training photo (similarity.py gray32);
              compared with real photos' distance to their nearest other training photo
  diversity   pairwise distances among generated faces vs among as many real photos
  judge       (judge.py) Fréchet distance on Darknet tiny features against --judge-n held-out photos the
              style trainer never saw, at --sizes (128,256) px, beside real vs real at the same N; per-image
              detail (Laplacian) and the both-eyes rate at 256 px, generated vs real
Writes metrics into manifest.json and rewrites README.md (the model card) with samples.png,
interpolation.png and nearest.png beside it.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

import judge as jd
import similarity as sim
from model_card import write_card
from model_files import read_manifest, refresh_files, write_manifest
from plots import grid
from progress import Progress

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def write_png(path: str, rgb: np.ndarray) -> None:
    """Figures are committed with the model: maximum PNG compression keeps them small."""
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def fail(msg: str):
    sys.exit(f"portraits evaluate: {msg}")


def node(script: str, *args: str) -> dict:
    """Runs models/eval/<script> under tsx (judge.node); a failure ends the evaluation with its reason."""
    try:
        return jd.node(script, *args)
    except jd.JudgeError as e:
        fail(str(e))


def load_real(folder: str, res: int, need: int) -> np.ndarray:
    path = os.path.join(folder, "images.npy")
    if not os.path.exists(path):
        fail(f"{path} not found; --data must be a folder made by `portraits dataset`")
    arr = np.load(path, mmap_mode="r")
    if arr.ndim != 4 or arr.shape[3] != 3 or arr.dtype != np.uint8:
        fail(f"{path} has shape {arr.shape} {arr.dtype}; expected uint8 [N, H, W, 3]")
    if arr.shape[0] < need:
        fail(f"the data set has {arr.shape[0]} images; this evaluation needs at least {need} "
             "(lower --n / --novelty, or point --data at the training set)")
    if arr.shape[1] == res:
        return np.ascontiguousarray(arr)
    out = np.empty((arr.shape[0], res, res, 3), np.uint8)
    prog = Progress(arr.shape[0], "resize training set")
    for i in range(arr.shape[0]):
        out[i] = cv2.resize(arr[i], (res, res), interpolation=cv2.INTER_AREA)  # as train.py's area pooling
        if i % 1000 == 999:
            prog.update(1000)
    prog.close()
    return out


def face_rate(gen: np.ndarray, real: np.ndarray, detectors: str, target: float, work: str) -> dict:
    res = gen.shape[1]
    gen.tofile(os.path.join(work, "faces-generated.u8"))
    real.tofile(os.path.join(work, "faces-real.u8"))
    g = node("face-rate.ts", "--images", os.path.join(work, "faces-generated.u8"), "--size", str(res),
             "--detectors", detectors, "--label", "generated")
    r = node("face-rate.ts", "--images", os.path.join(work, "faces-real.u8"), "--size", str(res),
             "--detectors", detectors, "--label", "real")
    table = {}
    for name in g:
        ratio = g[name]["rate"] / r[name]["rate"] if r[name]["rate"] > 0 else 0.0
        table[name] = {"about": g[name]["detector"], "n": g[name]["n"], "generated": g[name]["rate"],
                       "real": r[name]["rate"], "ratio": round(ratio, 4),
                       "meanScoreGenerated": round(g[name]["meanScore"], 4),
                       "meanScoreReal": round(r[name]["meanScore"], 4)}
    primary = detectors.split(",")[0]
    return {"method": f"@vladmandic/face-api on TensorFlow.js (wasm backend); each {res} px image is upscaled "
                      f"bilinearly to {2 * res} px and given a {res} px mid-grey border, generated and real alike. "
                      f"Real photos: {len(real)} drawn at random (seed 0) from the training set.",
            "detectors": table, "primary": primary, "target": target,
            "targetMet": bool(table[primary]["ratio"] >= target)}


def novelty(gen: np.ndarray, real: np.ndarray, rng, work_png: str) -> dict:
    fg = sim.gray32(gen)
    fr = sim.gray32(real)
    d, idx = sim.nearest(fg, fr, label="novelty: generated vs training set")
    baseline_rows = rng.choice(len(real), size=min(len(gen), len(real)), replace=False)
    d_real, _ = sim.nearest(fr[baseline_rows], fr, exclude_self=baseline_rows, label="novelty: real vs rest")
    g, r = sim.stats(d), sim.stats(d_real)
    closer = float((d < r["p1"]).mean())
    order = np.argsort(d)[:8]
    pairs = [np.concatenate([gen[i], np.zeros((gen.shape[1], 2, 3), np.uint8), real[idx[i]]], axis=1) for i in order]
    write_png(work_png, grid(np.stack(pairs), cols=4, pad=4))
    verdict = (f"The closest generated face is {g['min']:.3f} from its nearest training photo; a real photo's "
               f"nearest other training photo is {r['median']:.3f} away at the median and {r['p1']:.3f} at the "
               f"1st percentile. {closer * 100:.1f}% of generated faces are closer to a training photo than that "
               f"1st percentile")
    verdict += (" (about what chance gives: no sign of copying)." if closer <= 0.02 else
                " (more than chance: look at nearest.png for copies).")
    return {"method": f"Nearest training photo over all {len(real):,} curated images for {len(gen)} generated "
                      "faces, by gray32 distance: greyscale 32x32 thumbnails, mean removed, unit length, L2 "
                      "(0 = same picture up to brightness/contrast, 1.41 = unrelated). Baseline: the same for "
                      f"{len(baseline_rows)} real photos against the rest of the set.",
            "generated": g, "realBaseline": r, "closerThanRealP1": round(closer, 4),
            "closestPairs": [{"seed": int(i), "trainingIndex": int(idx[i]), "distance": float(d[i])} for i in order],
            "verdict": verdict}


def diversity(gen: np.ndarray, real_sample: np.ndarray) -> dict:
    metrics = {}
    for name, f in [("gray32", sim.gray32), ("rgb32", sim.rgb32)]:
        a, b = f(gen), f(real_sample)
        pg, pr = sim.pairwise(a), sim.pairwise(b)
        ng, nr = sim.within_nearest(a), sim.within_nearest(b)
        metrics[name] = {"generated": {"mean": float(pg.mean()), "std": float(pg.std()),
                                       "nearestMedian": float(np.median(ng))},
                         "real": {"mean": float(pr.mean()), "std": float(pr.std()),
                                  "nearestMedian": float(np.median(nr))},
                         "ratio": round(float(pg.mean() / pr.mean()), 4),
                         "nearestRatio": round(float(np.median(ng) / np.median(nr)), 4)}
    worst = min(m["ratio"] for m in metrics.values())
    near = min(m["nearestRatio"] for m in metrics.values())
    verdict = (f"Generated faces differ from each other {worst:.2f}x as much as real photos do (lowest of the two "
               f"distances); the median distance to the nearest other sample is {near:.2f}x the real one. ")
    verdict += ("No sign of mode collapse." if worst >= 0.8 and near >= 0.6 else
                "Less varied than the real photos: partial mode collapse.")
    return {"method": f"All pairwise distances among {len(gen)} generated faces and among {len(real_sample)} random "
                      "training photos, with gray32 (see novelty) and rgb32 (RMS difference of 32x32 colour "
                      "thumbnails in [0, 1]); nearestMedian is the median distance from a sample to its nearest "
                      "other sample in the same set (near-identical outputs pull it down).",
            "metrics": metrics, "verdict": verdict}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="portraits evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="generator model folder (made by `portraits export`)")
    ap.add_argument("--data", required=True, help="the training set folder (made by `portraits dataset`)")
    ap.add_argument("--n", type=int, default=500, help="images per side for the face rate (default: %(default)s)")
    ap.add_argument("--novelty", type=int, default=1000,
                    help="generated faces for novelty and diversity (default: %(default)s)")
    ap.add_argument("--detectors", default="tiny,ssd",
                    help="face-api detectors; the first is the primary (default: %(default)s)")
    ap.add_argument("--target", type=float, default=0.8,
                    help="required generated/real face-rate ratio (default: %(default)s)")
    ap.add_argument("--keep", default="", help="keep the rendered images in this folder (default: temporary)")
    ap.add_argument("--judge-n", type=int, default=1000,
                    help="generated faces and held-out photos per side for the judge (Fréchet distance, detail, eyes) "
                         "(default: %(default)s)")
    ap.add_argument("--sizes", default="128,256",
                    help="sizes (px) the Fréchet distance is measured at (default: %(default)s)")
    ap.add_argument("--holdout", default=jd.DEFAULT_HOLDOUT,
                    help="held-out photo list (JSON with 'files') (default: %(default)s)")
    ap.add_argument("--photos", default=jd.DEFAULT_PHOTOS,
                    help="folder of the original photos (200 px UTKFace) (default: %(default)s)")
    ap.add_argument("--darknet", default=jd.DEFAULT_DARKNET,
                    help="Darknet tiny model folder (the judge's features) (default: %(default)s)")
    ap.add_argument("--no-eyes", action="store_true", help="skip the both-eyes rate (the slowest part of the judge)")
    ap.add_argument("--eyes-n", type=int, default=0,
                    help="faces per side for the both-eyes rate (default: --judge-n; about 0.6 s a face on 2 cores)")
    ap.add_argument("--face", default="",
                    help="face stage model folder for the stack's figures (default: the generator's related face "
                         "model when installed beside it; 'off' for none)")
    ap.add_argument("--no-judge", action="store_true", help="skip the judge")
    ap.add_argument("--only-judge", action="store_true",
                    help="measure only the judge; keep the manifest's other metrics and figures as they are")
    args = ap.parse_args(argv)
    if args.n < 1 or args.novelty < 2:
        fail("--n must be at least 1 and --novelty at least 2")
    if args.no_judge and args.only_judge:
        fail("--no-judge and --only-judge contradict each other")
    if not args.no_judge and args.judge_n < 2:
        fail("--judge-n must be at least 2")
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        fail(f"--sizes takes sizes in px separated by commas, not '{args.sizes}'")
    if not sizes or min(sizes) < 16:
        fail("--sizes needs at least one size of 16 px or more")

    m = read_manifest(args.model)
    g = m.get("generator")
    if m.get("kind") != "generator" or not g:
        fail(f"{args.model} holds a {m.get('kind')} model; evaluate needs a generator")
    res = int(g["resolution"])
    work = args.keep or tempfile.mkdtemp(prefix="portraits-eval-")
    os.makedirs(work, exist_ok=True)
    face_dir = face_folder(args.model, m, args.face)
    if args.only_judge:
        if not m.get("metrics"):
            fail(f"{args.model} has no metrics yet: run a full evaluation first (without --only-judge)")
        gen = render(args.model, args.judge_n, res, work)
        m["metrics"]["judge"] = run_judge(gen, args, sizes, work, m)
        if face_dir:
            m["metrics"]["stack"] = stack_figures(args, m, face_dir, sizes, work, res, None)
        finish(args.model, m)
        return

    real = load_real(args.data, res, max(args.n, args.novelty))
    rng = np.random.default_rng(0)
    count = max(args.n, args.novelty, 64, 0 if args.no_judge else args.judge_n)
    strip_rows, strip_steps = 4, 10
    node("generate.ts", "--model", args.model, "--count", str(count), "--out", os.path.join(work, "generated.u8"),
         "--strip-rows", str(strip_rows), "--strip-steps", str(strip_steps),
         "--strip-out", os.path.join(work, "strip.u8"))
    gen = np.fromfile(os.path.join(work, "generated.u8"), np.uint8).reshape(count, res, res, 3)
    strip = np.fromfile(os.path.join(work, "strip.u8"), np.uint8).reshape(strip_rows * strip_steps, res, res, 3)
    print(f"rendered {count} faces at {res} px", file=sys.stderr)

    face_rows = rng.choice(len(real), size=args.n, replace=False)
    faces = face_rate(gen[:args.n], real[face_rows], args.detectors, args.target, work)
    print(json.dumps({k: {"generated": v["generated"], "real": v["real"], "ratio": v["ratio"]}
                      for k, v in faces["detectors"].items()}), file=sys.stderr)
    nov = novelty(gen[:args.novelty], real, rng, os.path.join(args.model, "nearest.png"))
    div_rows = rng.choice(len(real), size=args.novelty, replace=False)
    div = diversity(gen[:args.novelty], real[div_rows])

    write_png(os.path.join(args.model, "samples.png"), grid(gen[:64], cols=8))
    write_png(os.path.join(args.model, "interpolation.png"), grid(strip, cols=strip_steps))
    m["metrics"] = {"evaluatedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "samples": count, "data": os.path.relpath(os.path.abspath(args.data)),
                    "faceRate": faces, "novelty": nov, "diversity": div}
    if not args.no_judge:
        m["metrics"]["judge"] = run_judge(gen, args, sizes, work, m)
    if face_dir:
        m["metrics"]["stack"] = stack_figures(args, m, face_dir, sizes, work, res, real)
    p = faces["detectors"][faces["primary"]]
    finish(args.model, m, {"faceRate": {k: v["ratio"] for k, v in faces["detectors"].items()},
                           "generatedRate": p["generated"], "realRate": p["real"], "targetMet": faces["targetMet"],
                           "noveltyMin": nov["generated"]["min"], "closerThanRealP1": nov["closerThanRealP1"],
                           "diversityRatio": {k: v["ratio"] for k, v in div["metrics"].items()}})


def face_folder(model: str, m: dict, face: str):
    """The face stage folder whose stack (generator, then face stage) evaluate measures too, or None."""
    if face == "off":
        return None
    if face:
        if not os.path.exists(os.path.join(face, "manifest.json")):
            fail(f"--face {face}: no manifest.json there")
        return face
    related = m.get("related", {}).get("face")
    folder = os.path.join(os.path.dirname(os.path.abspath(model)), related) if related else ""
    return folder if related and os.path.exists(os.path.join(folder, "manifest.json")) else None


def stack_figures(args, m: dict, face_dir: str, sizes: list, work: str, res: int, real) -> dict:
    """The stack's figures: seeds through generator.onnx and the face stage as the live path runs them
    (models/eval/generate.ts --face): the judge, novelty (with `real`), a 4x4 grid and interpolation strips."""
    count = max(args.judge_n, 16) if not args.no_judge else 16
    rows, steps = 2, 6
    out, strip_out = os.path.join(work, "stack.u8"), os.path.join(work, "stack-strip.u8")
    made = node("generate.ts", "--model", args.model, "--count", str(count), "--out", out, "--face", face_dir,
                "--strip-rows", str(rows), "--strip-steps", str(steps), "--strip-out", strip_out)
    side = int(made["resolution"])
    stack = np.fromfile(out, np.uint8).reshape(count, side, side, 3)
    strip = np.fromfile(strip_out, np.uint8).reshape(rows * steps, side, side, 3)
    print(f"rendered {count} faces through the stack at {side} px", file=sys.stderr)
    write_png(os.path.join(args.model, "stack-samples.png"), grid(stack[:16], cols=4))
    write_png(os.path.join(args.model, "stack-interpolation.png"), grid(strip, cols=steps))
    face_manifest = read_manifest(face_dir)
    print_seed = print_512(args.model, face_dir)
    figures = {"face": face_manifest["id"], "size": side, "samples": count, "print512Seed": print_seed,
               "faceTraining": {k: face_manifest.get("training", {}).get(k) for k in ("steps", "images", "hours")}}
    if not args.no_judge:
        figures["judge"] = run_judge(stack, args, sizes, work, m)
    if real is not None:
        # Novelty is about identity, which the face stage keeps: the stack's faces shrunk back to the photos' size.
        n = min(args.novelty, count)
        figures["novelty"] = novelty(jd.resize_to(stack[:n], res), real, np.random.default_rng(1),
                                     os.path.join(work, "stack-nearest.png"))
    return figures


PRINT_SEED = 42


def print_512(model: str, face_dir: str):
    """A 512 px print of one seed through the whole print stack (`portraits render`: generator, face stage,
    then ESRGAN x2), shown 1:1 on the card: stack-512.png. The seed, or None when the face stage does not sit
    in the generator's models folder (render finds both by id there)."""
    model, face_dir = os.path.abspath(model), os.path.abspath(face_dir)
    models_dir = os.path.dirname(model)
    if os.path.dirname(face_dir) != models_dir:
        print(f"no 512 px print: the face stage {face_dir} is not beside {model}", file=sys.stderr)
        return None
    cmd = [os.environ.get("PORTRAITS_NODE", "node"), os.path.join(jd.REPO, "bin", "portraits.js"), "render",
           "--seed", str(PRINT_SEED), "--size", "512", "--models-dir", models_dir,
           "--model", os.path.basename(model), "--face", os.path.basename(face_dir),
           "--out", os.path.join(model, "stack-512.png")]
    if subprocess.run(cmd, cwd=jd.REPO, stdout=sys.stderr).returncode != 0:
        fail("portraits render of the 512 px print failed; see its message above")
    return PRINT_SEED


def render(model: str, count: int, res: int, work: str) -> np.ndarray:
    """Seeds 0..count-1 through generator.onnx (models/eval/generate.ts), as [count, res, res, 3] uint8."""
    node("generate.ts", "--model", model, "--count", str(count), "--out", os.path.join(work, "generated.u8"))
    gen = np.fromfile(os.path.join(work, "generated.u8"), np.uint8).reshape(count, res, res, 3)
    print(f"rendered {count} faces at {res} px", file=sys.stderr)
    return gen


def run_judge(gen: np.ndarray, args, sizes: list, work: str, m: dict) -> dict:
    try:
        j = jd.evaluate_faces(gen, args.judge_n, sizes, args.holdout, args.data, args.photos, work,
                              darknet=args.darknet, eyes=not args.no_eyes, eyes_n=args.eyes_n)
    except jd.JudgeError as e:
        fail(str(e))
    j["evaluatedAt"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    # Only the style trainer keeps the list out (its settings record held_out); other runs trained on every photo.
    j["heldOutSeenInTraining"] = "held_out" not in m.get("training", {}).get("settings", {})
    return j


def finish(model: str, m: dict, headline: dict = None) -> None:
    """Card, file list and manifest from the metrics; the headline figures as one JSON line on stdout."""
    write_card(model, m)
    refresh_files(model, m)
    write_manifest(model, m)
    out = dict(headline or {})
    if "judge" in m["metrics"]:
        out["judge"] = jd.summary(m["metrics"]["judge"])
    if "judge" in m["metrics"].get("stack", {}):
        out["stack"] = {"face": m["metrics"]["stack"]["face"], **jd.summary(m["metrics"]["stack"]["judge"])}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
