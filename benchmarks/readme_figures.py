"""The documents' figures, generated from the committed results files.

    python benchmarks/readme_figures.py           # rewrite the documents' blocks
    python benchmarks/readme_figures.py --check   # exit 1 if any block is stale

Every table and measured number of the `DOCUMENTS` (README.md, the
documentation site's benchmarks page docs/benchmarks.md and its translation
page docs/translation.md, its classifiers page docs/classifiers.md (blocks in
benchmarks/figures_classifiers.py), and saved_models/README.md) lives between
`<!-- figures:NAME -->` and `<!-- /figures:NAME -->`, and `BLOCKS[NAME]` makes
it from the results files that a committed command wrote
(benchmarks/results/*.json, the eval reports' eval.json, the shipped models'
cards). Each block stands in one document.
tests/test_readme.py runs `--check`'s comparison, so CI fails when a
document and the results disagree: re-run the benchmark, then this script.

Numbers are read, never typed here: this file holds only formats and the
published reference figures (`toy_modes.PUBLISHED`, from protocols.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SAVED = ROOT / "saved_models"
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "benchmarks.md", SAVED / "README.md",
             ROOT / "docs" / "translation.md", ROOT / "docs" / "classifiers.md",
             ROOT / "docs" / "web.md")
BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                   r"(<!-- /figures:(?P=name) -->)", re.DOTALL)


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _card(name: str) -> dict:
    return _json(SAVED / name / "model.json")


def _eval(name: str) -> dict:
    return _json(RESULTS / "eval" / name / "eval.json")


def _pm(stat: dict, digits: int) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['se']:.{digits}f}"


# -- 2D mode collapse ---------------------------------------------------------------


def _toy_row(label: str, summary: dict, bold: bool = False) -> str:
    cells = []
    for ds in ("ring", "grid"):
        s = summary[ds]
        cells += [_pm(s["modes"], 1), _pm(s["high_quality"], 1), _pm(s["reverse_kl"], 3),
                  f"{s['cpu_seconds']['mean']:.0f}"]
    if bold:
        cells = [f"**{c}**" for c in cells]
    return f"| {label} | " + " | ".join(cells) + " |"


def toy() -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from toy_modes import PUBLISHED, TARGETS

    tuned = _json(RESULTS / "toy_modes.json")
    held = _json(RESULTS / "toy_modes_heldout.json")
    rp = next(v for v in held["summary"] if v.startswith("preset[gan=rpgan"))
    lines = [
        "| | ring modes (of 8) | ring % HQ | ring reverse KL | ring CPU s | grid modes (of 25) "
        "| grid % HQ | grid reverse KL | grid CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
        _toy_row("keras-gan preset, seeds 5-9 (never used to choose it)",
                 held["summary"]["preset"], bold=True),
        _toy_row("keras-gan preset, seeds 0-4 (its tuning seeds)", tuned["summary"]["preset"]),
        _toy_row("preset settings with `rpgan` + R1 + R2 (0.1, lazy every 4), seeds 5-9",
                 held["summary"][rp]),
    ]
    for name, ring, grid, src in PUBLISHED:
        if name in ("PacGAN4", "GDPP-GAN"):
            lines.append(f"| {name} ({src}) | {ring[0]:g} | {ring[1]:g} | "
                         f"{'-' if ring[2] is None else f'{ring[2]:g}'} | | {grid[0]:g} | "
                         f"{grid[1]:g} | {'-' if grid[2] is None else f'{grid[2]:g}'} | |")
    (rk, rh, rkl), (gk, gh, gkl) = TARGETS["ring"], TARGETS["grid"]
    lines.append(f"| target | {rk} | >= {rh:g} | <= {rkl:g} | | {gk} | >= {gh:g} | "
                 f"<= {gkl:g} | |")
    walls = {ds: [r["train_seconds"] for r in held["runs"]["preset"][ds]]
             for ds in ("ring", "grid")}
    cpus = {ds: [r["cpu_seconds"] for r in held["runs"]["preset"][ds]] for ds in ("ring", "grid")}
    plain = tuned["summary"]
    pac = plain["pacgan"]
    lines += [
        "",
        "Mean ± standard error over 5 training seeds; CPU s: CPU seconds per seed on one "
        "TensorFlow thread (`--threads 1`), which wall time matches when no other job "
        "holds the CPU. On seeds 5-9 the preset's ring seeds took "
        f"{min(walls['ring']):.0f}-{max(walls['ring']):.0f} s of wall time "
        f"({min(cpus['ring']):.0f}-{max(cpus['ring']):.0f} s CPU), its grid seeds "
        f"{min(walls['grid']):.0f}-{max(walls['grid']):.0f} s "
        f"({min(cpus['grid']):.0f}-{max(cpus['grid']):.0f} s CPU), beside other jobs "
        f"(1-minute load {held['load_range'][0]:.1f}-{held['load_range'][1]:.1f}).",
        "",
        "The plain variants, trained in the papers' VEEGAN setting for only "
        f"{tuned['baseline']['steps_per_epoch']:,} steps to fit the time budget (seeds 0-4), "
        "show what they do at that budget: "
        + ", ".join(f"`{v}` {plain[v]['ring']['modes']['mean']:.1f} of 8 and "
                    f"{plain[v]['grid']['modes']['mean']:.1f} of 25 modes "
                    f"({plain[v]['ring']['high_quality']['mean']:.1f}% / "
                    f"{plain[v]['grid']['high_quality']['mean']:.1f}% high quality)"
                    for v in ("gan", "nsgan", "wgan-gp", "unrolled"))
        + f"; `pacgan` {pac['ring']['modes']['mean']:.1f} of 8 and "
          f"{pac['grid']['modes']['mean']:.1f} of 25.",
    ]
    return "\n".join(lines)


# -- MNIST: time to quality ------------------------------------------------------------


def _ttq_cell(x: dict | None, extra: bool = True) -> str:
    if x is None:
        return " | | |" + (" |" if extra else "")
    cells = f" {x['step']:,} | {x['fd']:.2f} | {x['score']:.2f} |"
    return cells + (f" {100 * x['min_class']:.1f}% |" if extra else "")


def ttq() -> str:
    t = _json(RESULTS / "time_to_quality.json")
    res = t["results"]
    ref = next(iter(res["default"].values()))["reference"]
    lines = ["| budget | tutorial: steps / FD / score | | | default: steps / FD / score / "
             "smallest class | | | |", "|---|---|---|---|---|---|---|---|"]
    for b in sorted(res["default"], key=float):
        lines.append(f"| {float(b):g} min |" + _ttq_cell(res["tutorial"].get(b), False)
                     + _ttq_cell(res["default"][b]))
    five = res["default"]["5.0"]
    ratios = [res["default"][b]["fd"] / res["tutorial"][b]["fd"] for b in res["default"]]
    lines += ["", f"Real halves: FD {ref['fd']:.2f}, score {ref['score']:.2f}, smallest class "
              f"{100 * ref['class_coverage']['min_fraction']:.1f}%. At 5 minutes the default "
              f"preset's score is {100 * five['score'] / ref['score']:.0f}% of the real data's "
              f"(goal 90%), its smallest class {100 * five['min_class']:.1f}% (goal 5%); its FD "
              f"is {100 * min(ratios):.1f}-{100 * max(ratios):.1f}% of the tutorial's at every "
              "budget (goal: at most 20%)."]
    return "\n".join(lines)


def ttq_rpgan() -> str:
    t = _json(RESULTS / "time_to_quality_rpgan.json")
    res = t["results"]
    names = [r for r in ("default", "clustered-rpgan-r1r2", "nsgan", "rpgan-r1r2") if r in res]
    labels = {"default": "default preset (`clustered`)",
              "clustered-rpgan-r1r2": "default preset, RpGAN loss + R1 + R2",
              "nsgan": "`nsgan`, same settings, no clusters",
              "rpgan-r1r2": "`rpgan` + R1 + R2, same settings, no clusters"}
    budgets = sorted(next(iter(res.values())), key=float)
    lines = ["| recipe (seed 1) | " + " | ".join(f"{float(b):g} min: steps / FD / score"
                                                 for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for r in names:
        cells = [f"{res[r][b]['step']:,} / {res[r][b]['fd']:.2f} / {res[r][b]['score']:.2f}"
                 for b in budgets]
        lines.append(f"| {labels[r]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def throughput() -> str:
    import statistics

    t = _json(RESULTS / "train_throughput.json")
    lines = ["| training loop | images/s, median (min-max) |", "|---|---|"]
    for name, runs in t["images_per_s"].items():
        lines.append(f"| {name} | {statistics.median(runs):.0f} "
                     f"({min(runs):.0f}-{max(runs):.0f}) |")
    fit = statistics.median(t["images_per_s"]["`GAN.fit` (keras-gan)"])
    peak = statistics.median(t["matmul_gflops"])
    lines += ["", f"`GAN.fit` / bare loop: {statistics.median(t['fit_over_bare']):.2f} (median "
              "of the per-repeat ratios; goal >= 0.95). At "
              f"{t['flops_per_image'] / 1e6:.0f} MFLOP per image and step, `GAN.fit` runs at "
              f"{fit * t['flops_per_image'] / 1e9:.1f} GFLOP/s, "
              f"{100 * fit * t['flops_per_image'] / 1e9 / peak:.0f}% of the measured matmul "
              f"peak ({peak:.0f} GFLOP/s)."]
    return "\n".join(lines)


def _emoji_ttq(size: int, grids: tuple[str, str], grid_minutes: int = 30) -> str:
    t = _json(RESULTS / f"emoji{size}_time_to_quality.json")
    res = t["results"]
    preset, base = "yaml:presets/emoji-32.yaml", "plain-dcgan"
    labels = {preset: "`presets/emoji-32.yaml`", base: "plain DCGAN"}
    ref = next(iter(res[preset].values()))["reference"]
    # Class TV (class proportions vs the real ones) is in the runs made since it was added.
    tv = all("class_tv" in x for rows in (res[preset], res[base]) for x in rows.values())
    lines = [f"| recipe (seed {t.get('seed', 1)}, {size} px) | CPU minutes | steps | emoji FD "
             "| precision | recall |" + (" class TV |" if tv else "") + " FD / plain DCGAN's |",
             "|---|---|---|---|---|---|" + ("---|" if tv else "") + "---|"]
    for r in (preset, base):
        for b, x in sorted(res[r].items(), key=lambda kv: float(kv[0])):
            ratio = x["fd"] / res[base][b]["fd"]
            lines.append(f"| {labels[r]} | {float(b):g} | {x['step']:,} | {x['fd']:.2f} | "
                         f"{x['precision']:.2f} | {x['recall']:.2f} | "
                         + (f"{x['class_tv']:.2f} | " if tv else "")
                         + (f"{ratio:.2f} |" if r == preset else "1 |"))
    p30, b30 = res[preset]["30.0"], res[base]["30.0"]
    last = p30["fd"] / b30["fd"]
    lines += ["", f"Real halves: emoji FD {ref['fd']:.2f}, precision {ref['precision']:.2f}, "
              f"recall {ref['recall']:.2f}"
              + (f", class TV {ref['class_tv']:.2f}" if tv else "")
              + ". Goal: at 30 minutes the preset's FD at "
              f"most a third of the plain DCGAN's: {last:.2f}, "
              f"{'met' if last <= 1 / 3 else 'not met'}{_first_third(res, preset, base)}. "
              "Recall at 30 minutes: "
              f"{p30['recall']:.2f} (preset) against {b30['recall']:.2f}.", "",
              # Paths, not pictures: the page is part of the documentation site,
              # which holds only what is under docs/.
              f"Sample grids at {grid_minutes} CPU minutes, {size} px: "
              f"`benchmarks/results/{grids[0]}` (the preset) and "
              f"`benchmarks/results/{grids[1]}` (plain DCGAN)."]
    return "\n".join(lines)


def _first_third(res: dict, preset: str, base: str) -> str:
    """Where the preset's FD first falls to a third of the baseline's, else its last ratio."""
    budgets = sorted(res[preset], key=float)
    for b in budgets:
        ratio = res[preset][b]["fd"] / res[base][b]["fd"]
        if ratio <= 1 / 3:
            return f" (first met at {float(b):g} minutes: {ratio:.3f})"
    b = budgets[-1]
    return (f" (nor at the last budget, {float(b):g} minutes: "
            f"{res[preset][b]['fd'] / res[base][b]['fd']:.2f})")


def emoji_ttq() -> str:
    return _emoji_ttq(32, ("emoji32_preset_emoji-32_30min.png",
                           "emoji32_plain_dcgan_plain-dcgan_30min.png"))


def emoji_ttq_64() -> str:
    # 64 px buys a quarter of the steps per CPU minute: at 30 minutes neither recipe
    # draws much a person would name, so the grids shown are the last budget's.
    return _emoji_ttq(64, ("emoji64_preset_emoji-32_60min.png",
                           "emoji64_plain_dcgan_plain-dcgan_60min.png"), grid_minutes=60)


def small_data() -> str:
    t = _json(RESULTS / "small_data.json")
    res = dict(t["results"])
    names = {"none": "no augmentation", "diffaugment": "DiffAugment"}
    if "ada" in t["rows"]:
        names["ada"] = f"ADA at target {t['rows']['ada']['ada_target']:g}"
    # A second ADA run at another target, when its results file is there
    # (small_data.py --rows ada --ada-target T --out small_data_ada_target.md).
    extra = RESULTS / "small_data_ada_target.json"
    if extra.exists():
        x = _json(extra)
        target = x["rows"]["ada"]["ada_target"]
        row = f"ada, target {target:g}"
        res[row], names[row] = x["results"]["ada"], f"ADA at target {target:g}"
    lines = ["| augmentation | CPU minutes | steps | emoji FD (vs all 7,572) | r train | "
             "r held-out | gap | ADA p |", "|---|---|---|---|---|---|---|---|"]
    for row, entries in res.items():
        for e in entries:
            p = "" if e["ada_p"] is None else f"{e['ada_p']:.2f}"
            lines.append(f"| {row} | {e['cpu_seconds'] / 60:g} | {e['step']:,} | {e['fd']:.2f} | "
                         f"{e['r_train']:+.2f} | {e['r_held_out']:+.2f} | "
                         f"{e['r_train'] - e['r_held_out']:+.2f} | {p} |")
    last = {r: res[r][-1] for r in res}
    gaps = ", ".join(f"{last[r]['r_train'] - last[r]['r_held_out']:+.2f} with {names[r]}"
                     for r in res)
    # The text follows the numbers: where each row's FD bottomed out, and whether ADA's p
    # ever left 0 (it only moves once r_t stays above the target).
    best = ", ".join(f"{names[r]} {min(e['fd'] for e in res[r]):.2f} at "
                     f"{min(res[r], key=lambda e: e['fd'])['cpu_seconds'] / 60:g} min "
                     f"(last {last[r]['fd']:.2f})" for r in res)
    ada = ""
    for r in (r for r in res if r.startswith("ada")):
        p_max = max(e["ada_p"] for e in res[r])
        ada += (f" {names[r]}: p reached {p_max:.2f} at its highest ({last[r]['ada_p']:.2f} "
                "at the end)." if p_max > 0 else f" {names[r]}: p stayed at 0.00, r_t never "
                "stayed above the target long enough to raise it.")
    end = next(iter(last.values()))["cpu_seconds"] / 60  # every row has the same budget
    lines += ["", f"At the last copy ({end:g} CPU minutes) the train / held-out gap is "
              f"{gaps}. Best FD: {best}.{ada}"]
    return "\n".join(lines)


# -- GAN vs VAE, shipped models ------------------------------------------------------------


def vae() -> str:
    runs = {"default preset (`clustered`)": _eval("mnist-dcgan"),
            "plain DCGAN": _eval("mnist-dcgan-plain"), "VAE": _eval("mnist-vae")}
    ref = runs["VAE"]["metrics"]["reference"]
    rows = [("digit FD (lower is better)", lambda m: m["fd"], "{:.2f}", ref["fd"]),
            ("digit score (max 10)", lambda m: m["score"], "{:.2f}", ref["score"]),
            ("precision", lambda m: m["precision"], "{:.2f}", ref["precision"]),
            ("recall", lambda m: m["recall"], "{:.2f}", ref["recall"]),
            ("smallest class share", lambda m: m["class_coverage"]["min_fraction"], "{:.3f}",
             ref["class_coverage"]["min_fraction"])]
    lines = ["| | " + " | ".join(runs) + " | real halves |", "|---|" + "---|" * (len(runs) + 1)]
    for label, get, fmt, real in rows:
        lines.append(f"| {label} | " + " | ".join(fmt.format(get(r["metrics"]))
                                                  for r in runs.values())
                     + f" | {fmt.format(real)} |")
    steps = {r["steps"] for r in runs.values()}
    lines += ["", f"All three trained {'/'.join(f'{s:,}' for s in sorted(steps))} steps; "
              f"{runs['VAE']['num_samples']:,} samples each, seed {runs['VAE']['seed']}."]
    return "\n".join(lines)


def _r1(card: dict) -> str:
    """", lazy R1: `--r1 X --reg-every K`" when the card's training used R1."""
    t = card["training_config"]
    return (f", lazy R1: `--r1 {t['r1']:g} --reg-every {t.get('reg_every', 1)}`"
            if t.get("r1") else "")


def shipped() -> str:
    d, c = _card("mnist-dcgan"), _card("mnist-cgan")
    ref = _eval("mnist-dcgan")["metrics"]["reference"]
    asked = c["metrics"].get("conditional_accuracy")
    lines = [
        "| | `saved_models/mnist-dcgan` (unconditional, default preset) | "
        f"`saved_models/mnist-cgan` (conditional{', lazy R1' if _r1(c) else ''}) | goal | "
        "real halves |",
        "|---|---|---|---|---|",
        f"| digit FD | {d['metrics']['fd']:.2f} | {c['metrics']['fd']:.2f} | <= "
        f"{4 * ref['fd']:.2f} (4x real) | {ref['fd']:.2f} |",
        f"| digit score | {d['metrics']['score']:.2f} | {c['metrics']['score']:.2f} | >= "
        f"{0.96 * ref['score']:.2f} (96%) | {ref['score']:.2f} |",
        f"| smallest class | {100 * d['metrics']['min_class_fraction']:.1f}% | "
        f"{100 * c['metrics']['min_class_fraction']:.1f}% | >= 8% | "
        f"{100 * ref['class_coverage']['min_fraction']:.1f}% |",
        "| classified as the asked class | - | "
        + (f"{100 * asked:.1f}%" if asked is not None else "-") + " | >= 98% | - |",
        f"| training | {d['steps']:,} steps, {d['train_seconds']:.0f} s | {c['steps']:,} steps, "
        f"{c['train_seconds']:.0f} s | | |",
        "",
        f"`mnist-dcgan`'s fp16 ONNX: max error {d['fp16_max_abs_error']:.4f} against fp32 "
        "(the cluster draw stays in fp32).",
    ]
    return "\n".join(lines)


def inference() -> str:
    t = _json(RESULTS / "inference.json")
    lines = [f"`{t['model']}` ({t['params']:,} parameters), median (min-max) of "
             f"{t['repeats']} runs:", "",
             f"| backend | batch 1, ms/call | batch {t['batch']}, images/s | batch-1 latency / "
             "ONNX |", "|---|---|---|---|"]
    onnx = t["rows"]["ONNX runtime (CPU)"]["latency_ms"][0]
    for name, row in t["rows"].items():
        lat, thr = row["latency_ms"], row["throughput"]
        lines.append(f"| {name} | {lat[0]:.2f} ({lat[1]:.2f}-{lat[2]:.2f}) | {thr[0]:,.0f} "
                     f"({thr[1]:,.0f}-{thr[2]:,.0f}) | {lat[0] / onnx:.1f}x |")
    return "\n".join(lines)


def shipped_list() -> str:
    """saved_models/README.md's table: each model's figures from its card."""
    rows = ["| model | what | made by |", "|---|---|---|"]
    for name in ("mnist-dcgan", "mnist-cgan"):
        card, ev = _card(name), _eval(name)
        m, ref = card["metrics"], ev["metrics"]["reference"]
        what = ("unconditional, the default preset of `keras-gan train` (`--gan clustered`)"
                if name == "mnist-dcgan" else
                f"conditional on the digit labels (`--gan cgan`{_r1(card)})")
        rows.append(
            f"| `{name}/` | DCGAN networks on the embedded 10,000 MNIST digits, {what}, "
            f"{card['steps']:,} steps in {card['train_seconds']:.0f} s: digit FD "
            f"{m['fd']:.2f}, score {m['score']:.2f}, smallest class "
            f"{100 * m['min_class_fraction']:.1f}% (real halves {ref['fd']:.2f}, "
            f"{ref['score']:.2f}, {100 * ref['class_coverage']['min_fraction']:.1f}%) | "
            f"`{m['command']}` |")
    if (SAVED / "mnist-ssgan" / "model.json").exists():
        card, ev = _card("mnist-ssgan"), _eval("mnist-ssgan")
        m, ref, clf = card["metrics"], ev["metrics"]["reference"], card["classifier"]
        rows.append(
            f"| `mnist-ssgan/` | semi-supervised GAN (`--gan ssgan`, the paper's MLPs) on the "
            f"8,000 digits outside the 2,000 held out, {clf['labelled_examples']:,} of them "
            f"labelled, {card['steps']:,} steps in {card['train_seconds']:.0f} s: its "
            f"classifier (`classifier.onnx`, the demo's guess) is right on "
            f"{100 * clf['test_accuracy']:.2f}% of the held-out digits; its generator, trained "
            f"by feature matching for D's sake, not for looks: digit FD {m['fd']:.2f}, score "
            f"{m['score']:.2f} (real halves {ref['fd']:.2f}, {ref['score']:.2f}) | "
            f"`{m['trained_by']}`, then `{m['command']}` |")
    for name in ("toy-ring", "toy-grid"):
        card = _card(name)
        m = card["metrics"]
        rows.append(f"| `{name}/` | `{m['preset']}`, seed 0: {m['modes']}/{m['num_modes']} "
                    f"modes, {100 * m['high_quality']:.1f}% high quality, reverse KL "
                    f"{m['reverse_kl']:.4f} | `{m['command']}` |")
    if (SAVED / "emoji-32" / "model.json").exists():
        card = _card("emoji-32")
        m = card["metrics"]
        ref = m["reference"]
        cfg = card["training_config"]  # the card says which networks, not this script
        rows.append(
            f"| `emoji-32/` | `presets/emoji-32.yaml` (`--arch {cfg['arch']}`, "
            f"`--gan {cfg['gan']}`, R1 {cfg['r1']:g}) "
            f"on the 7,572 emoji of emoji64.npz at 32x32, {card['steps']:,} steps in "
            f"{card['train_seconds']:.0f} s: emoji FD {m['fd']:.2f}, precision "
            f"{m['precision']:.2f}, recall {m['recall']:.2f} (real halves {ref['fd']:.2f}, "
            f"{ref['precision']:.2f}, {ref['recall']:.2f}); Twemoji (CC-BY 4.0) and Noto "
            f"Emoji (Apache 2.0) images, attribution on its card | `{m['command']}` |")
    for name, what in (("emoji-sketch", "pix2pix, sketch -> Twemoji"),
                       ("emoji-styles/ab", "CycleGAN, Twemoji -> Noto"),
                       ("emoji-styles/ba", "CycleGAN, Noto -> Twemoji")):
        if not (SAVED / name / "model.json").exists():
            continue
        card = _card(name)
        m = card["metrics"]
        ident, truth = m["reference"]["identity"], m["reference"]["truth"]
        rows.append(
            f"| `{name}/` | translator ({what}) on emoji64's training split at 32x32, "
            f"{card['steps']:,} steps in {card['train_seconds']:.0f} s; on the held-out "
            f"emoji: L1 {m['test_l1']:.3f}, emoji FD {m['test_fd']:.2f}, target style "
            f"{m['test_style_share']:.1%}, source category {m['test_content_share']:.1%} "
            f"(the source as is: {ident['l1']:.3f}, {ident['fd']:.2f}, "
            f"{ident['style_share']:.1%}; real targets: FD {truth['fd']:.2f}, "
            f"{truth['style_share']:.1%}); attribution on its card | `{m['command']}` |")
    clf = _json(SAVED / "digit-classifier" / "model.json")
    rows.append("| `digit-classifier/` | CNN digit classifier, the feature extractor of the "
                f"digit FD / score: {100 * clf['held_out_accuracy']:.2f}% on "
                f"{clf['held_out_rows']:,} held-out digits; its card holds the real-data "
                f"references | `{clf['command']}` |")
    emo = _json(SAVED / "emoji-classifier" / "model.json")
    acc = emo["held_out_accuracy"]
    rows.append("| `emoji-classifier/` | CNN emoji classifier (10 categories x 2 art styles), "
                f"the feature extractor of the emoji FD / score: {100 * acc['64px']:.1f}% at "
                f"64 px and {100 * acc['32px']:.1f}% at 32 px on {emo['held_out_rows']:,} "
                "images of held-out emoji (chance 5%); its card holds the real-data references "
                f"| `{emo['command']}` |")
    return "\n".join(rows)


def _measured_at(entry: dict) -> str:
    """" (commit `abc1234`, DATE)" for a block kept from an earlier rehearsal."""
    return f" (commit `{entry['commit'][:7]}`, {entry['date']})" if entry.get("commit") else ""


def rehearsal() -> str:
    path = RESULTS / "rehearsal.json"
    if not path.exists():  # a first rehearsal needs a README that passes its tests
        return "Not rehearsed yet: `python benchmarks/rehearse.py` writes these figures."
    r = _json(path)
    ev = r["eval"]
    ref = ev["reference"]
    # A rehearsal of one block keeps the other's figures from an earlier commit.
    when = _measured_at(r["train"])
    return "\n".join([
        f"- the first command{when} (install, then `keras-gan train`): "
        f"{r['train']['seconds'] / 60:.1f} "
        f"minutes, {ev['train_seconds']:.0f} s of them training ({ev['steps']:,} steps); "
        f"`keras-gan eval` on its run then gave digit FD {ev['fd']:.2f}, score "
        f"{ev['score']:.2f}, smallest class {100 * ev['min_class']:.1f}% (real halves: "
        f"{ref['fd']:.2f}, {ref['score']:.2f}, "
        f"{100 * ref['class_coverage']['min_fraction']:.1f}%);",
        f"- the second{_measured_at(r['test'])} (install, browser, tests): "
        f"{r['test']['seconds'] / 60:.1f} minutes, `{r['test']['summary']}`;",
        f"- on {r['cpus']} CPU cores, commit `{r['commit'][:7]}`, {r['date']}.",
    ])


def projection() -> str:
    r = _json(RESULTS / "projection.json")
    lines = [f"{r['n']:,} held-out digits (`{r['command']}`, {r['date']}; the evaluator on "
             f"the real digits: {r['real_accuracy']:.1%}):", "",
             "| model | loss | steps | MSE | agreement | ms per image, batch | ms, one "
             "image |", "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        lines.append(f"| {row['model']} | {row['loss']} | {row['steps']} | {row['mse']:.4f} "
                     f"| {row['agreement']:.1%} | {row['batch_ms_per_image']:.1f} | "
                     f"{row['single_ms']:.0f} |")
    lines += ["", "Interpolating between two projected real digits of different labels "
              f"({r['interpolation'][0]['pairs']} pairs, {r['interpolation'][0]['frames']} "
              "frames each), the share of frames the evaluator is confident about (top "
              f"probability >= 0.9; real held-out digits: {r['real_confident']:.1%}):", ""]
    for i in r["interpolation"]:
        line = (f"- `{i['model']}`: {i['confident_frames']:.1%} of frames; "
                f"{i['paths_all_confident']:.1%} of paths confident throughout")
        if "slerp_all_confident_frames" in i:
            line += (f" (its cluster switched halfway; a slerp of all of z, which crosses "
                     f"the clusters between the two: {i['slerp_all_confident_frames']:.1%} "
                     f"and {i['slerp_all_paths_all_confident']:.1%})")
        lines.append(line)
    return "\n".join(lines)


TRANSLATION_COLUMNS = (("l1", "L1", 4), ("feature_distance", "feature distance", 2),
                       ("fd", "FD", 2), ("kid", "KID", 3), ("style_share", "style share", 3),
                       ("content_share", "content share", 3))
TRANSLATION_ROWS = {"identity": "identity (the source)", "unet-l1": "L1 alone (`unet-l1`)",
                    "pix2pix-adv": "cGAN alone (`pix2pix-adv`)",
                    "pix2pix": "L1 + cGAN (`pix2pix`)", "cyclegan": "CycleGAN, no pairs",
                    "truth": "truth (the real targets)"}


def _mean(runs: list, key: str) -> float | None:
    values = [r["metrics"][key] for r in runs if r["metrics"].get(key) is not None]
    return sum(values) / len(values) if values else None


def _mean_sd(runs: list, key: str, digits: int) -> str:
    values = [r["metrics"][key] for r in runs if r["metrics"].get(key) is not None]
    if not values:
        return "-"
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def translation() -> str:
    path = RESULTS / "translation_ablation_styles.json"
    if not path.exists():
        return ("Not measured yet: `python benchmarks/translation_ablation.py` writes these "
                "figures.")
    r = _json(path)
    s, res = r["settings"], r["results"]
    lines = [f"{s['budget']:g} CPU minutes of one thread per row, {s['image_size']} px, width "
             f"{s['width']}, batch {s['batch_size']}, constant rate; seeds "
             f"{', '.join(map(str, r['seeds']))} (mean ± standard deviation), none of them "
             f"used to tune (seed 0 chose the width on the validation pairs); scored on the "
             f"{r['num_pairs']} test pairs ({r['domains'][0]} -> {r['domains'][1]}). "
             "`benchmarks/results/translation_ablation_styles.md` has the commands.", "",
             "| row | steps | " + " | ".join(c[1] for c in TRANSLATION_COLUMNS) + " |",
             "|---" * (len(TRANSLATION_COLUMNS) + 2) + "|"]
    for row, label in TRANSLATION_ROWS.items():
        if row not in res:
            continue
        runs = res[row]
        steps = [e["steps"] for e in runs if e.get("steps")]
        lines.append(f"| {label} | {round(sum(steps) / len(steps)) if steps else '-'} | "
                     + " | ".join(_mean_sd(runs, k, d) for k, _, d in TRANSLATION_COLUMNS)
                     + " |")
    l1, both, cycle = res.get("unet-l1"), res.get("pix2pix"), res.get("cyclegan")
    if l1 and both:
        fd, l1_fd = _mean(both, "fd"), _mean(l1, "fd")
        style, l1_style = _mean(both, "style_share"), _mean(l1, "style_share")
        ratio = _mean(both, "feature_distance") / _mean(l1, "feature_distance")
        lines += ["", "The issue's goals, on these means:",
                  f"- L1 + cGAN {'beats' if fd < l1_fd else 'does not beat'} L1 alone on FD "
                  f"({fd:.2f} vs {l1_fd:.2f}) and {'beats' if style > l1_style else 'does not'}"
                  f" {'it' if style > l1_style else 'beat it'} on style share ({style:.3f} vs "
                  f"{l1_style:.3f});",
                  f"- its feature distance is {ratio:.2f} x L1 alone's ("
                  f"{'within' if ratio <= 1.1 else 'outside'} the 10% asked);"]
        if cycle:
            share = _mean(cycle, "style_share") / style
            lines.append(f"- CycleGAN, without pairs, reaches {share:.0%} of pix2pix's style "
                         f"share ({'at least' if share >= 0.9 else 'short of'} the 90% asked).")
    if r.get("figure"):
        shown = ", ".join(TRANSLATION_ROWS[k] for k in ("unet-l1", "pix2pix-adv", "pix2pix",
                                                         "cyclegan") if k in res)
        lines += ["", f"![held-out emoji: source, {shown}, truth]"
                      f"(figures/{Path(r['figure']).name})"]
    return "\n".join(lines)


BLOCKS = {"rehearsal": rehearsal, "translation": translation, "projection": projection,
          "toy": toy, "ttq": ttq,
          "ttq-rpgan": ttq_rpgan,
          "emoji-ttq": emoji_ttq, "emoji-ttq-64": emoji_ttq_64, "small-data": small_data,
          "throughput": throughput, "vae": vae, "shipped": shipped, "inference": inference,
          "shipped-list": shipped_list}


def _classifier_blocks() -> dict:
    """The blocks of the later pages, each made in its own module."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from figures_classifiers import BLOCKS as CLASSIFIERS
    from figures_web import BLOCKS as WEB

    return {**CLASSIFIERS, **WEB}


BLOCKS.update(_classifier_blocks())


def render(text: str) -> str:
    """`text` with every figures block regenerated."""
    def fill(m):
        name = m.group("name")
        if name not in BLOCKS:
            raise SystemExit(f"unknown figures block {name!r}")
        return m.group(1) + BLOCKS[name]().rstrip("\n") + "\n" + m.group(4)

    return BLOCK.sub(fill, text)


def stale() -> list[str]:
    """The documents whose blocks differ from what the results give."""
    return [str(p.relative_to(ROOT)) for p in DOCUMENTS if render(p.read_text()) != p.read_text()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    args = p.parse_args(argv)
    if args.check:
        bad = stale()
        for path in bad:
            print(f"{path}: figures differ from the results; run "
                  "`python benchmarks/readme_figures.py`", file=sys.stderr)
        return 1 if bad else 0
    for path in DOCUMENTS:
        path.write_text(render(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
