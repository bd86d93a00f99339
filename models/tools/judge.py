"""The project's quality judge: generated faces against real photos that training never saw.

  Fréchet distance  between Gaussians fitted to features of an independent pretrained
                    network: Darknet tiny (ImageNet classifier, MIT), last 3x3 conv block
                    (leaky_re_lu_14, 512 channels) averaged over space, computed by
                    models/eval/features.ts with onnxruntime-node. Lower is closer to real.
                    Each size S (128 and 256 px) is its own figure: generated faces are
                    resized from the generator's resolution to S (bicubic up, area down),
                    real photos from their 200 px (the same rule), then the network's own
                    input transform takes S to 224 px (bilinear). Beside each figure: the
                    real-vs-real distance between the held-out photos and a disjoint set of
                    as many other photos, the floor that sampling noise alone gives at that
                    sample count (the distance has a positive bias that shrinks with N, so
                    only figures at the same N compare).
  detail            per-image RMS of the 4-neighbour Laplacian of the grey image (values in
                    [0, 1]) at 256 px: fine structure such as lashes, hair and skin texture.
                    Reported as generated / real medians; below 1 means softer than photos.
  both eyes         models/eval/eyes.ts (face-api detector + landmarks, rules there) at 256 px,
                    generated vs the held-out photos.

Real photos: the held-out list the style trainer keeps out of training (seed 20261205,
committed as models/checkpoints/style-face.holdout.json) and, for real vs real, a disjoint
set of as many other photos of the curated set (DATA/index.json, chosen with seed 0),
decoded from the original 200 px files in --photos (../shared/datasets/utkface). Their
features and eye results are cached in .cache/judge/ (they depend only on the file list,
the size and the networks; $PORTRAITS_JUDGE_CACHE moves them).

`python3 judge.py --self-check` tests the Fréchet distance against closed forms (numpy only).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_HOLDOUT = os.path.join(REPO, "models", "checkpoints", "style-face.holdout.json")
DEFAULT_PHOTOS = os.path.abspath(os.path.join(REPO, "..", "shared", "datasets", "utkface"))
DEFAULT_DARKNET = os.path.join(REPO, "models", "darknet-tiny")
CACHE_DIR = os.environ.get("PORTRAITS_JUDGE_CACHE") or os.path.join(REPO, ".cache", "judge")
FEATURE_LAYER = "leaky_re_lu_14"
NETWORK_INPUT = 224
DETAIL_SIZE = 256
EYES_SIZE = 256
CACHE_VERSION = 1


class JudgeError(Exception):
    pass


# ---------------------------------------------------------------- Fréchet distance (numpy only)

def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    a = (a + a.T) / 2
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def feature_stats(features: np.ndarray):
    """Mean and covariance (N - 1 normalised) of [N, D] features, in float64."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise JudgeError(f"need [N >= 2, D] features, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) is computed as tr((R S2 R)^(1/2)) with R = S1^(1/2): R S2 R is
    symmetric positive semi-definite and has the same eigenvalues as S1 S2, so both square
    roots are eigendecompositions of symmetric matrices (no complex parts, no sqrtm)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    r = sqrtm_psd(s1)
    m = r @ s2 @ r
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0, None)).sum())
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)
    return max(d, 0.0)


def fd_of(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*feature_stats(a), *feature_stats(b))


def self_check() -> dict:
    """Closed-form checks; raises AssertionError on a mismatch. Returns the figures."""
    rng = np.random.default_rng(0)
    d = 16
    x = rng.standard_normal((4000, d)) @ rng.standard_normal((d, d)) * 0.3
    same = fd_of(x, x)
    assert same < 1e-8, f"FD of a set with itself is {same}"
    # Shifted copies: the covariances are equal, so FD is exactly the squared shift.
    shift = rng.standard_normal(d)
    shifted = fd_of(x, x + shift)
    assert abs(shifted - float(shift @ shift)) < 1e-8 * max(1.0, float(shift @ shift)), (shifted, shift @ shift)
    # Commuting (diagonal) covariances: FD = |dmu|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = rng.uniform(0.1, 4, d), rng.uniform(0.1, 4, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    closed = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    diag = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert abs(diag - closed) < 1e-9 * closed, (diag, closed)
    # A general pair against the same formula with the square root taken another way
    # (eigenvalues of S1 S2 directly): both must agree.
    q1, q2 = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    s1, s2 = q1 @ q1.T + 0.1 * np.eye(d), q2 @ q2.T + 0.1 * np.eye(d)
    ev = np.linalg.eigvals(s1 @ s2)
    other = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev.real.clip(0)).sum())
    general = frechet_distance(mu1, s1, mu2, s2)
    assert abs(general - other) < 1e-7 * max(1.0, other), (general, other)
    # Symmetric in its two arguments, and sampled Gaussians converge to the closed form.
    assert abs(general - frechet_distance(mu2, s2, mu1, s1)) < 1e-7 * max(1.0, general)
    ga = rng.multivariate_normal(mu1, np.diag(a), 200_000)
    gb = rng.multivariate_normal(mu2, np.diag(b), 200_000)
    sampled = fd_of(ga, gb)
    assert abs(sampled - closed) < 0.02 * closed, (sampled, closed)
    # Rank-deficient covariances (fewer samples than dimensions) stay finite and >= 0.
    few = fd_of(rng.standard_normal((10, 64)), rng.standard_normal((10, 64)))
    assert np.isfinite(few) and few >= 0, few
    return {"same": same, "shifted": shifted, "shiftClosedForm": float(shift @ shift), "diagonal": diag,
            "diagonalClosedForm": closed, "general": general, "generalByEigvals": other, "sampled": sampled,
            "rankDeficient": few}


# ---------------------------------------------------------------- images

def _cv2():
    import cv2  # imported lazily: the self-check needs numpy only
    return cv2


def resize_to(images: np.ndarray, size: int) -> np.ndarray:
    """[N, h, w, 3] uint8 -> [N, size, size, 3]: bicubic when enlarging, area when shrinking."""
    if images.shape[1] == size and images.shape[2] == size:
        return np.ascontiguousarray(images)
    cv2 = _cv2()
    interp = cv2.INTER_CUBIC if size > images.shape[1] else cv2.INTER_AREA
    out = np.empty((len(images), size, size, 3), np.uint8)
    for i, im in enumerate(images):
        out[i] = cv2.resize(im, (size, size), interpolation=interp)
    return out


def load_photos(folder: str, names: list, sizes, label: str = "photos") -> dict:
    """The named photos decoded once (RGB, centre square) and resized to each size: {size: array}."""
    from progress import Progress
    cv2 = _cv2()
    out = {s: np.empty((len(names), s, s, 3), np.uint8) for s in sizes}
    prog = Progress(len(names), f"load {label}")
    for i, name in enumerate(names):
        path = os.path.join(folder, name)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise JudgeError(f"cannot read {path} (--photos must be the folder of the original photos)")
        h, w = img.shape[:2]
        side = min(h, w)
        img = cv2.cvtColor(img[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2], cv2.COLOR_BGR2RGB)
        for s in sizes:
            out[s][i] = cv2.resize(img, (s, s), interpolation=cv2.INTER_CUBIC if s > side else cv2.INTER_AREA)
        prog.update(1)
    prog.close()
    return out


def detail(images: np.ndarray) -> np.ndarray:
    """Per-image RMS of the 4-neighbour Laplacian of the grey image in [0, 1] (edges replicated)."""
    cv2 = _cv2()
    out = np.empty(len(images), np.float64)
    for i, im in enumerate(images):
        g = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REPLICATE)
        out[i] = float(np.sqrt(np.mean(lap.astype(np.float64) ** 2)))
    return out


def detail_summary(gen: np.ndarray, real: np.ndarray) -> dict:
    dg, dr = detail(gen), detail(real)
    return {"size": int(gen.shape[1]), "n": len(dg),
            "generated": {"median": round(float(np.median(dg)), 5), "mean": round(float(dg.mean()), 5)},
            "real": {"median": round(float(np.median(dr)), 5), "mean": round(float(dr.mean()), 5)},
            "ratio": round(float(np.median(dg) / np.median(dr)), 4)}


# ---------------------------------------------------------------- real photo sets

def read_holdout(path: str) -> dict:
    if not os.path.exists(path):
        raise JudgeError(f"{path} not found: the held-out list (written next to the checkpoint by train_style.py)")
    with open(path) as f:
        h = json.load(f)
    if not isinstance(h.get("files"), list) or not h["files"]:
        raise JudgeError(f"{path} has no 'files' list")
    return h


def other_photos(data_dir: str, exclude: list, n: int, seed: int = 0) -> list:
    """n names of the curated set (DATA/index.json) outside `exclude`, drawn with a fixed seed."""
    path = os.path.join(data_dir, "index.json")
    if not os.path.exists(path):
        raise JudgeError(f"{path} not found; --data must be a folder made by `portraits dataset`")
    with open(path) as f:
        names = [e["file"] for e in json.load(f)]
    held = set(exclude)
    pool = [nm for nm in names if nm not in held]
    if len(pool) < n:
        raise JudgeError(f"only {len(pool)} photos outside the held-out list; need {n}")
    rows = np.sort(np.random.default_rng(seed).choice(len(pool), size=n, replace=False))
    return [pool[i] for i in rows]


# ---------------------------------------------------------------- Node scripts

def node(script: str, *args: str) -> dict:
    """Runs models/eval/<script> under tsx; its progress goes to our stderr, its JSON result comes back."""
    cmd = [os.environ.get("PORTRAITS_NODE", "node"), "--import", "tsx", os.path.join(REPO, "models", "eval", script),
           *args]
    try:
        done = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise JudgeError(f"{cmd[0]} not found; run this through `npx portraits evaluate`, or set PORTRAITS_NODE")
    if done.returncode != 0:
        raise JudgeError(f"models/eval/{script} failed (exit {done.returncode}); see its message above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _file_sha(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Judge:
    """Runs the feature and eye scripts on image arrays; caches results for fixed real sets."""

    def __init__(self, work: str, darknet: str = DEFAULT_DARKNET, cache: str = CACHE_DIR):
        self.work, self.darknet, self.cache = work, darknet, cache
        model = os.path.join(darknet, "model.onnx")
        if not os.path.exists(model):
            raise JudgeError(f"{model} not found: run `npx portraits models fetch darknet-tiny "
                             "--from ../shared/models/darknet-tiny`")
        self.darknet_sha = _file_sha(model)

    def _cached(self, kind: str, key: dict, compute, load, save):
        if key is None:
            return compute()
        digest = hashlib.sha256(json.dumps({**key, "kind": kind, "v": CACHE_VERSION}, sort_keys=True).encode()).hexdigest()
        path = os.path.join(self.cache, f"{kind}-{digest[:24]}")
        if os.path.exists(path):
            return load(path)
        value = compute()
        os.makedirs(self.cache, exist_ok=True)
        save(path + ".tmp", value)
        os.replace(path + ".tmp", path)
        return value

    def features(self, images: np.ndarray, label: str, key: dict = None) -> np.ndarray:
        size = images.shape[1]

        def compute():
            src, dst = os.path.join(self.work, f"{label}-{size}.u8"), os.path.join(self.work, f"{label}-{size}.f32")
            np.ascontiguousarray(images).tofile(src)
            r = node("features.ts", "--images", src, "--size", str(size), "--out", dst, "--model", self.darknet,
                     "--layer", FEATURE_LAYER, "--input", str(NETWORK_INPUT), "--label", f"features {label} {size}px")
            f = np.fromfile(dst, np.float32).reshape(r["n"], r["dims"])
            os.remove(src)
            os.remove(dst)
            return f

        def save(path, f):
            with open(path, "wb") as fh:
                np.save(fh, f)
        full = None if key is None else {**key, "size": size, "darknet": self.darknet_sha, "layer": FEATURE_LAYER,
                                          "input": NETWORK_INPUT}
        return self._cached("features", full, compute, np.load, save)

    def eyes(self, images: np.ndarray, label: str, key: dict = None) -> np.ndarray:
        """Per-image flags from eyes.ts: 0 no face, 1 face without both eyes, 2 both eyes."""
        size = images.shape[1]

        def compute():
            src, dst = os.path.join(self.work, f"{label}-eyes.u8"), os.path.join(self.work, f"{label}-eyes.flags")
            np.ascontiguousarray(images).tofile(src)
            node("eyes.ts", "--images", src, "--size", str(size), "--flags", dst, "--label", label)
            flags = np.fromfile(dst, np.uint8)
            os.remove(src)
            os.remove(dst)
            return flags

        full = None if key is None else {**key, "size": size, "eyes": _file_sha(os.path.join(REPO, "models", "eval",
                                                                                               "eyes.ts"))}
        return self._cached("eyes", full, compute, lambda p: np.fromfile(p, np.uint8), lambda p, v: v.tofile(p))


def eyes_method(size: int) -> str:
    return (f"models/eval/eyes.ts: @vladmandic/face-api's SSD MobileNet v1 face detector (confidence >= 0.5) and "
            f"68-point landmarks on each {size} px image with a {size // 2} px grey border; both eyes count when each "
            "eye's landmarks are inside the image, open (aspect >= 0.15), >= 8% of the face box wide, with "
            "luminance contrast >= 0.12 (95th - 5th percentile), and the two agree in width (1.6x) and level")


def evaluate_faces(generated: np.ndarray, n: int, sizes, holdout_path: str, data_dir: str, photos: str, work: str,
                   darknet: str = DEFAULT_DARKNET, eyes: bool = True, gen_label: str = "generated",
                   eyes_n: int = 0) -> dict:
    """The judge's figures for `generated` ([>= n, r, r, 3] uint8 at the generator's resolution).
    The both-eyes rate uses the first eyes_n of each side (0: all n); it is the slow part."""
    eyes_n = min(n, eyes_n or n)
    if len(generated) < n:
        raise JudgeError(f"{len(generated)} generated faces; the judge needs {n}")
    holdout = read_holdout(holdout_path)
    if len(holdout["files"]) < n:
        raise JudgeError(f"the held-out list has {len(holdout['files'])} photos; --judge-n {n} is more "
                         "(the real-vs-real figure needs as many held-out photos as generated faces)")
    held_names = list(holdout["files"][:n])
    other_names = other_photos(data_dir, holdout["files"], n)
    judge = Judge(work, darknet)
    sizes = sorted({int(s) for s in sizes})
    need = sorted(set(sizes) | {DETAIL_SIZE, EYES_SIZE})
    photos = os.path.abspath(photos)
    held = load_photos(photos, held_names, need, "held-out photos")
    other = load_photos(photos, other_names, sizes, "other photos")
    gen = generated[:n]
    key_held = {"files": held_names, "photos": photos}
    key_other = {"files": other_names, "photos": photos}
    frechet = {}
    for s in sizes:
        g = resize_to(gen, s)
        fg = judge.features(g, gen_label)
        fh = judge.features(held[s], "held-out", key_held)
        fo = judge.features(other[s], "other", key_other)
        d_gen, d_real = fd_of(fg, fh), fd_of(fo, fh)
        frechet[str(s)] = {"generated": round(d_gen, 3), "realVsReal": round(d_real, 3),
                           "overReal": round(d_gen / d_real, 2) if d_real > 0 else None}
        print(f"judge {s}px: FD generated vs held-out {d_gen:.3f}, real vs real {d_real:.3f}", file=sys.stderr)
    g256 = resize_to(gen, DETAIL_SIZE)
    det = detail_summary(g256, held[DETAIL_SIZE])
    print(f"judge detail {DETAIL_SIZE}px: generated/real {det['ratio']:.3f}", file=sys.stderr)
    out = {
        "n": n,
        "generatorResolution": int(gen.shape[1]),
        "network": {"model": "darknet-tiny", "sha256": judge.darknet_sha, "layer": FEATURE_LAYER, "dims": 512,
                    "input": NETWORK_INPUT},
        "realSets": {"heldOut": {"list": os.path.relpath(os.path.abspath(holdout_path), REPO),
                                 "seed": holdout.get("seed"), "count": n},
                     "other": {"from": os.path.relpath(os.path.abspath(data_dir), REPO), "seed": 0, "count": n},
                     "photos": "the original 200 px photos"},
        "frechet": frechet,
        "detail": det,
        "method": (f"Fréchet distance between Gaussians fitted to {n} generated faces and {n} held-out real photos "
                   "(the first of the style trainer's held-out list, which it never trains on), on Darknet tiny's last 3x3 conv block (leaky_re_lu_14, "
                   "512 channels, averaged over space; ImageNet classifier, MIT) via onnxruntime-node "
                   "(models/eval/features.ts). At each size S, generated faces are resized from "
                   f"{gen.shape[1]} px and real photos from 200 px to S (bicubic up, area down), then bilinearly to "
                   "the network's 224 px. realVsReal: the held-out photos against as many other curated photos "
                   "(disjoint, seed 0), the floor sampling noise gives at this N. Detail: per-image RMS of the "
                   f"4-neighbour Laplacian of the grey image at {DETAIL_SIZE} px, median generated / median real."),
    }
    if eyes:
        fg = judge.eyes(resize_to(gen[:eyes_n], EYES_SIZE), gen_label)
        fr = judge.eyes(held[EYES_SIZE][:eyes_n], "held-out", {**key_held, "files": held_names[:eyes_n]})
        rg, rr = float((fg == 2).mean()), float((fr == 2).mean())
        out["bothEyes"] = {"size": EYES_SIZE, "n": eyes_n, "generated": round(rg, 4), "real": round(rr, 4),
                           "ratio": round(rg / rr, 4) if rr > 0 else None,
                           "faceGenerated": round(float((fg > 0).mean()), 4),
                           "faceReal": round(float((fr > 0).mean()), 4), "method": eyes_method(EYES_SIZE)}
        print(f"judge both eyes {EYES_SIZE}px: generated {rg:.3f}, real {rr:.3f}", file=sys.stderr)
    return out


def summary(j: dict) -> dict:
    """The headline figures, for a one-line JSON print."""
    s = {f"fd{k}": v["generated"] for k, v in j["frechet"].items()}
    s.update({f"fd{k}RealVsReal": v["realVsReal"] for k, v in j["frechet"].items()})
    s["detailRatio"] = j["detail"]["ratio"]
    if "bothEyes" in j:
        s.update({"bothEyesGenerated": j["bothEyes"]["generated"], "bothEyesReal": j["bothEyes"]["real"],
                  "bothEyesRatio": j["bothEyes"]["ratio"]})
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(prog="judge.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-check", action="store_true", help="test the Fréchet distance on closed forms and exit")
    ap.add_argument("--images", help="raw [N, R, R, 3] uint8 faces to judge (numpy tofile), with --resolution")
    ap.add_argument("--resolution", type=int)
    ap.add_argument("--data", default=os.path.join(REPO, "data", "utk128"), help="curated set (index.json)")
    ap.add_argument("--holdout", default=DEFAULT_HOLDOUT)
    ap.add_argument("--photos", default=DEFAULT_PHOTOS)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--no-eyes", action="store_true")
    ap.add_argument("--eyes-n", type=int, default=0, help="faces per side for the both-eyes rate (default: --n)")
    args = ap.parse_args(argv)
    if args.self_check:
        print(json.dumps(self_check()))
        return
    if not args.images or not args.resolution:
        ap.error("--images and --resolution (or --self-check)")
    r = args.resolution
    gen = np.fromfile(args.images, np.uint8).reshape(-1, r, r, 3)
    try:
        with tempfile.TemporaryDirectory(prefix="portraits-judge-") as work:
            j = evaluate_faces(gen, args.n, [int(s) for s in args.sizes.split(",")], args.holdout, args.data,
                               args.photos, work, eyes=not args.no_eyes, eyes_n=args.eyes_n)
    except JudgeError as e:
        sys.exit(f"judge: {e}")
    print(json.dumps({"summary": summary(j), "judge": j}))


if __name__ == "__main__":
    main()
