"""docs/theory.md, rendered from the results file that `keras-gan figures`
wrote (figures.json): the page's every number is read from it here, never
typed, and tests/test_figures.py checks that the committed page is what
this renders from the committed file.

    keras-gan figures --out docs/figures --doc docs/theory.md   # run, then render
    python -m keras_gan.figures.doc docs/figures docs/theory.md  # render only
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from keras_gan.figures import RESULTS_FILE


def write_doc(results: dict, path, out_dir) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, out_dir, path))
    return path


def _f(value: float, digits: int) -> str:
    """`value` to `digits` decimals, without the sign of a rounded-away zero."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _cmd(name: str, extra: str = "") -> str:
    return f"`keras-gan figures --only {name}{extra} --out docs/figures`"


def _time(r: dict) -> str:
    return (f"Run time: {r['seconds']:.0f} s of wall time ({r['cpu_seconds']:.0f} s CPU, "
            f"1-minute load {r['load_avg_1min']:.1f} when it started), {r['date']}.")


def _optimal_d(r: dict) -> str:
    n = r["numbers"]
    snaps = n["snapshots"]
    first, last = snaps[0], snaps[-1]
    return (
        "A `GAN` (non-saturating loss, MLPs with one input and one output) trains with "
        f"`fit` on `{r['settings']['data']}` (`keras_gan.data.pipeline`'s 1D source). At "
        f"{len(snaps)} moments its discriminator is first trained alone against the frozen "
        f"generator ({r['settings']['d_converge']} updates of its own `d_step`, the paper's "
        "panel (b)); then the trained D(x) (blue) is drawn beside "
        "D*(x) = p_data / (p_data + p_g) (red), p_g estimated from the generator "
        "(a histogram of G at 400,000 quantiles of z). Bottom: V(D, G), measured with the "
        "trained D, beside C(G) = 2 JSD(p_data || p_g) - log 4 from the densities "
        "(Goodfellow et al. 2014, Proposition 1, Theorem 1 and Figure 1).\n\n"
        f"Measured: the largest density-weighted mean gap |D - D*| over the snapshots is "
        f"{n['max_mean_gap']:.3f} (the pointwise gap peaks at {n['max_gap']:.2f}, at the "
        "sharp edges of a ReLU generator's density, which a smooth D cannot follow); "
        f"|V - C(G)| is at most {n['max_value_gap']:.3f} nats. C(G) falls from "
        f"{first['c_of_g']:.3f} at step {first['step']} (G's samples at mean "
        f"{first['g_mean']:.2f}, data at 2) to {last['c_of_g']:.3f} at step {last['step']} "
        f"(mean {last['g_mean']:.2f}, std {last['g_std']:.2f}; the minimum, -log 4, "
        "is -1.386).")


def _saturation(r: dict) -> str:
    n = r["numbers"]
    sat, ns = n["saturating"], n["non_saturating"]
    s = r["settings"]
    return (
        "Left: the two generator losses of Goodfellow et al. (2014, Section 3) as "
        "`keras_gan.models.losses` computes them, and the size of their gradient with respect "
        "to D's logit (autodiff), against D(G(z)): the saturating log(1 - D(G(z))) "
        "passes back D(G(z)), which vanishes when D rejects the fakes; the "
        "non-saturating -log D(G(z)) passes back 1 - D(G(z)) (largest difference "
        f"from those closed forms: {n['curve_error']:.1e}). Right: a real run where D "
        f"wins early: D pre-trained {s['pretrain']} updates on `{s['data']}` while G sits "
        "near 0, then `gan` (minimax) and `nsgan` from identical copies, `fit` with "
        "`grad_norms=True` and `keras_gan.training.callbacks.StepHistory` logging each step's "
        "generator gradient norm (G trained by SGD, as in the paper: Adam would rescale "
        "a vanishing gradient).\n\n"
        f"Measured: D(G(z)) starts at {sat['d_fake_start']:.4f}; over the first "
        f"{s['first']} steps the median generator gradient norm is "
        f"{sat['median_g_grad_norm_first']:.4f} with the saturating loss and "
        f"{ns['median_g_grad_norm_first']:.3f} with the non-saturating one "
        f"({n['grad_ratio_first']:.0f} times larger). After {s['steps']} steps the "
        f"minimax generator's mean has moved from {sat['g_mean_start']:.2f} to "
        f"{sat['g_mean_end']:.2f}, the non-saturating one's to {ns['g_mean_end']:.2f} "
        "(data mean 3).")


def _disjoint(r: dict) -> str:
    n = r["numbers"]
    lines = [x for x in n["lines"] if x["theta"] > 0]
    zero = [x for x in n["lines"] if x["theta"] == 0]
    jsd = [x["jsd_estimate"] for x in lines]
    g = n["gaussians"]
    table = "\n".join(f"| {x['theta']:g} | {_f(x['jsd_estimate'], 4)} | "
                      f"{_f(x['emd_estimate'], 3)} |" for x in n["lines"])
    return (
        "Arjovsky, Chintala and Bottou (2017, Example 1): real data on the line "
        "(0, Z), Z ~ U[0, 1]; the generator (theta, Z) moved step by step toward it. "
        "For each theta a fresh discriminator (`gan`'s `d_step`) and a fresh WGAN-GP "
        "critic (`wgan-gp`'s `d_step`) train against that fixed generator "
        f"({r['settings']['d_steps']} updates each). The discriminator's estimate of the "
        "JSD, (V(D, G) + log 4) / 2, stays at log 2 = 0.693 for every theta > 0: the "
        "supports are disjoint, however close. The critic's estimate of the earth "
        "mover's distance, E f(x) - E f(G(z)), falls with theta, as W = |theta| does. "
        "Right: the WGAN paper's Figure 2, two separated Gaussians: the discriminator "
        "saturates, the critic is nearly linear.\n\n"
        f"Measured: JSD estimates from {min(jsd):.4f} to {max(jsd):.4f} for theta from "
        f"{min(x['theta'] for x in lines):g} to {max(x['theta'] for x in lines):g}"
        + (f", {_f(zero[0]['jsd_estimate'], 4)} at theta = 0" if zero else "") + ". "
        f"On the Gaussians: D(x) averages {g['d_at_fakes']:.1e} at the fakes, with slope "
        f"{g['d_slope_at_fakes']:.1e}; the critic's slope there is "
        f"{g['critic_slope_at_fakes']:.2f}, and a straight line fits it between the two "
        f"means with R^2 {g['critic_linear_r2']:.3f} (slope "
        f"{g['critic_linear_slope']:.2f}: the penalty keeps the critic's slope near 1, "
        "not at most 1).\n\n"
        "| theta | JSD estimate (nats) | EMD estimate |\n|---|---|---|\n" + table)


def _noise(r: dict) -> str:
    n = r["numbers"]
    s = r["settings"]
    ds = n["discriminator"]
    runs = n["runs"]
    plain = runs["plain"]
    noisy = next(v for k, v in runs.items() if k.startswith("instance"))
    labelled = next(v for k, v in runs.items() if k.startswith("label"))
    rows = "\n".join(f"| {k} | {v['d_at_fakes']:.2e} | {v['g_loss_slope_at_fakes']:.2e} |"
                     for k, v in ds.items())
    return (
        "The Gaussians of figure 3 again, D trained with `GAN(instance_noise=...)` "
        "(Gaussian noise on every sample D sees, real and fake: Arjovsky and Bottou "
        "2017, Sonderby et al. 2017) and with `label_noise` (real targets 1 - U(0, N), "
        "Salimans et al. 2016). Noise makes the two distributions overlap: D no longer "
        "reaches 0 at the fakes, and the saturating generator loss has a gradient there "
        "again. Label noise caps D on the real side only. Right: the run of figure 2 "
        "with the saturating loss, plain and with each trick annealed to 0 over the run "
        f"(`anneal_steps={s['steps']}`).\n\n"
        "| D trained with | D at the fakes | gradient of log(1 - D) at the fakes |\n"
        "|---|---|---|\n" + rows + "\n\n"
        f"In the runs, the median generator gradient norm over the first {s['first']} "
        f"steps is {plain['median_g_grad_norm_first']:.3f} plain, "
        f"{noisy['median_g_grad_norm_first']:.3f} with instance noise "
        f"{s['run_noise']:g} and {labelled['median_g_grad_norm_first']:.3f} with label "
        f"noise {s['label_noise']:g}; after {s['steps']} steps the generator's mean is at "
        f"{plain['g_mean_end']:.2f}, {noisy['g_mean_end']:.2f} and "
        f"{labelled['g_mean_end']:.2f} (data mean 3).")


def _mode_collapse(r: dict) -> str:
    n = r["numbers"]
    s = r["settings"]
    steps = sorted(int(k) for k in next(iter(n.values())))
    pick = [st for st in steps if st in s["grid_steps"]]
    head = "| row | " + " | ".join(f"step {st:,}" for st in pick) + " |"
    rows = [head, "|---|" + "---|" * len(pick)]
    for row, m in n.items():
        rows.append(f"| `{row}` | " + " | ".join(
            f"{m[str(st)]['modes']}/8, {m[str(st)]['high_quality']:.0f}%" for st in pick) + " |")
    return (
        "Metz et al. (2016, Figure 1) in our library: four `keras_gan.train` runs on the "
        f"8-Gaussian ring, {s['steps']:,} steps each, sampled from the same "
        f"{s['samples']:,} latents every {s['every']} steps "
        "(`keras_gan.training.callbacks.SampleSnapshots`). `gan`, `unrolled` (K = 5) and `pacgan` "
        "(packs of 2) train in the benchmark's one common setting (the VEEGAN / "
        "Unrolled-GAN setting of `benchmarks/toy_modes.py`: z in R^256, batch 512, Adam "
        "1e-4 / 1e-3), so that only the variant differs; `preset` is "
        "`presets/toy-ring.yaml` itself, its 8,000 steps cut to the same "
        f"{s['steps']:,}. (With the preset's settings for every row, tried first, even "
        "plain `gan` covered all 8 modes: the preset's small latent and large batches do "
        "much of the work.) The animation has one frame per snapshot.\n\n"
        "Modes covered (of 8) and high-quality samples (within 3 std of a mode), per "
        "snapshot:\n\n" + "\n".join(rows))


def _progression(r: dict) -> str:
    s = r["settings"]
    rows = r["numbers"]["snapshots"]
    keys = [k for k in rows[0] if k != "step"]
    table = ""
    if keys:
        table = ("\n\n| after | " + " | ".join(k.replace("_", " ") for k in keys) + " |\n"
                 + "|---|" + "---|" * len(keys) + "\n"
                 + "\n".join(f"| {x['step']:,} steps | " + " | ".join(
                     f"{x[k]:.2f}" for k in keys) + " |" for x in rows))
    if s.get("preset"):
        return (
            f"Figure 6 again, on colour: one run of `{s['preset']}` (`--gan {s['gan']}`, "
            f"DCGAN networks, EMA of G) on `{s['dataset']}` at {s['image_size']} px, the same "
            f"{s['samples']} latents at each snapshot, {s['steps_made']:,} steps in all, each "
            f"snapshot scored on {s['scored']:,} samples in the emoji classifier's features "
            "(emoji FD, lower is better; score out of 20 classes)." + table)
    return (
        "The \"after 100, 1,000, 10,000 rounds\" grids of lecture notes, from one run of "
        f"the default preset (`keras-gan train`: `--gan {s['gan']}`, DCGAN networks, EMA "
        f"of G) on `{s['dataset']}`: the same 64 latents at each snapshot "
        f"(`SampleSnapshots`), {s['steps_made']:,} steps in all. Each snapshot is scored "
        f"on {s['scored']:,} samples by the project's classifier for the data (digit FD "
        "against as many real digits, lower is better; score out of 10). "
        "`--dataset` swaps the source; figure 6b is the colour run." + table)


def _gan_vs_vae(r: dict) -> str:
    n = r["numbers"]
    g, v = n["ring"]["gan"], n["ring"]["vae"]
    digits = n["digits"]
    d_rows = "\n".join(f"| {k} | {x['fd']:.2f} | {x['score']:.2f} | {x['precision']:.2f} | "
                       f"{x['recall']:.2f} |" for k, x in digits.items())
    return (
        "Top, trained here: the ring preset (`pacgan`) and the VAE baseline (`--gan vae`) "
        f"with the same MLPs, batch, optimizer and {r['settings']['steps']:,} steps, "
        "through the same `keras_gan.train`, scored by the same mode metrics. "
        f"GAN: {g['modes']}/8 modes, {g['high_quality']:.1f}% high-quality samples, mean "
        f"distance to the nearest mode {g['spread']:.3f}; VAE: {v['modes']}/8 modes, "
        f"{v['high_quality']:.1f}% high quality, mean distance {v['spread']:.3f}: its "
        "Gaussian likelihood spreads samples between the modes (Kingma and Welling 2014). "
        "Bottom: the digit comparison of the benchmarks page, each model trained 60 epochs (the "
        "committed reports in `benchmarks/results/eval/`, not retrained here):\n\n"
        "| digits | FD | score | precision | recall |\n|---|---|---|---|---|\n" + d_rows)


SECTIONS = {
    "optimal-d": ("1. The optimal discriminator", "optimal_d.png", _optimal_d),
    "saturation": ("2. Vanishing gradients", "saturation.png", _saturation),
    "disjoint": ("3. When D is too strong, JSD says nothing", "disjoint.png", _disjoint),
    "noise": ("4. Noise helps overlap", "noise.png", _noise),
    "mode-collapse": ("5. Mode collapse in motion", "mode_collapse.gif", _mode_collapse),
    "progression": ("6. A training progression on images", None, _progression),
    "progression-emoji": ("6b. The same on colour emoji", None, _progression),
    "gan-vs-vae": ("7. GAN vs VAE on the same data", "gan_vs_vae.png", _gan_vs_vae),
}


def render(results: dict, out_dir, doc_path) -> str:
    """The page for `results` (figures.json's contents); images are linked
    relative to `doc_path`."""
    rel = Path(os.path.relpath(Path(out_dir), Path(doc_path).parent)).as_posix()
    figures = results["figures"]
    lines = [
        "# The theory, drawn from real runs",
        "",
        "The classic results about GANs, each drawn from a real training run of this "
        "library (its `GAN` class, variants, data sources and callbacks), not by hand. "
        "Every image and number below comes from one command:",
        "",
        "```bash",
        "keras-gan figures --out docs/figures --doc docs/theory.md",
        "```",
        "",
        f"which wrote the images and `{rel}/{RESULTS_FILE}` (each figure's settings, "
        "numbers and run time) and rendered this page from that file "
        "(`keras_gan/figures/doc.py`; a test checks they agree). `--only NAME` makes one "
        "figure; `--tiny` runs each at the scale the tests use "
        "(`tests/test_figures.py` checks the numbers behind each figure there). "
        f"Machine: {results['machine']}, one TensorFlow thread "
        f"(`--threads {results['threads']}`), seed {results['seed']}; {results['versions']}. "
        "Run times were measured while other jobs shared the 2-core CPU (the load "
        "average is given with each).",
        "",
    ]
    for name, (title, image, body) in SECTIONS.items():
        if name not in figures:
            continue
        r = figures[name]
        image = image or r["files"][0]
        lines += [f"## {title}", "", f"![{name}]({rel}/{image})", "", body(r), ""]
        if name == "mode-collapse":
            lines += [f"The grid of snapshots: [{rel}/mode_collapse.png]"
                      f"({rel}/mode_collapse.png).", ""]
        lines += [f"Command: {_cmd(name)}. " + _time(r), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m keras_gan.figures.doc FIGURES_DIR DOC.md", file=sys.stderr)
        return 2
    out_dir, doc = argv
    results = json.loads((Path(out_dir) / RESULTS_FILE).read_text())
    write_doc(results, doc, out_dir)
    print(f"Wrote {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
