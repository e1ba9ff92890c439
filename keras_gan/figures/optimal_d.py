"""Figure 1: the optimal discriminator (Goodfellow et al. 2014, Figure 1 and
Theorem 1), from a real run on 1D data.

A `GAN` (non-saturating loss, MLPs, `gauss1d` data) trains with `fit`. At
each snapshot step its discriminator is first trained on alone, G frozen,
until it is (near) optimal: that is the paper's panel (b), and what makes
the comparison with D* meaningful, since Proposition 1 is about the best D
for a fixed G. Then:
- p_g is estimated by a histogram of G at 400,000 quantiles of N(0, 1)
  (`common.generator_density`: no sampling noise, bins of 0.01);
- D*(x) = p_data(x) / (p_data(x) + p_g(x)) from the exact p_data and that
  estimate, against the trained D(x) (the largest gap where
  p_data + p_g > 0.1, and the mean gap weighted by (p_data + p_g) / 2, are
  recorded);
- V(D, G) = E log D(x) + E log(1 - D(G(z))) by Monte Carlo with the trained
  D, beside C(G) = 2 JSD(p_data || p_g) - log 4 (Theorem 1) computed from
  the densities: V <= C(G) for any D, with equality at D*.
"""

from __future__ import annotations

import numpy as np

from keras_gan.figures import common

NAME = "optimal-d"
TITLE = "The optimal discriminator"
# D learns 5x faster than G (1e-3 vs 2e-4), so that G moves visibly between
# the snapshots and D keeps up; the snapshots' D updates use batches of 1,024
# (less gradient noise: a sharper estimate of the optimum).
FULL = dict(data="gauss1d:2,0.5", snapshots=(0, 50, 100, 150, 200, 300, 400, 600, 800,
                                              1000, 1500, 2000, 3000), panels=(0, 200, 400, 3000),
            d_converge=500, batch=256, d_batch=1024, width=32, d_lr=1e-3, g_lr=2e-4,
            samples=20_000)
TINY = dict(data="gauss1d:2,0.5", snapshots=(0, 150, 300), panels=(0, 150, 300),
            d_converge=300, batch=256, d_batch=1024, width=32, d_lr=1e-3, g_lr=2e-4,
            samples=10_000)
GRID = (-2.0, 5.0, 701)  # x from -2 to 5, steps of 0.01


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    import keras

    from keras_gan.data.pipeline import make_dataset
    from keras_gan.data.sources import gauss1d_params, sample_gauss1d
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_mlp_discriminator, build_mlp_generator

    s = {**(TINY if tiny else FULL), **overrides}
    snapshots = sorted(set(s["snapshots"]) | set(s["panels"]))
    keras.utils.set_random_seed(seed)
    g = build_mlp_generator(1, (1,), width=s["width"])
    d = build_mlp_discriminator((1,), width=s["width"])
    gan = build_gan("nsgan", g, d, seed=seed)
    gan.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5),
                keras.optimizers.Adam(s["g_lr"], beta_1=0.5))
    ds, _ = make_dataset(s["data"], s["batch"], seed=seed, num_points=100_000)
    d_ds, _ = make_dataset(s["data"], s["d_batch"], seed=seed + 3, num_points=100_000)
    converge = common.d_trainer(gan)
    mean, std = gauss1d_params(s["data"])
    x = np.linspace(*GRID[:2], int(GRID[2]))
    from scipy import stats

    p_data = stats.norm.pdf(x, mean, std)
    real = sample_gauss1d(s["data"], s["samples"], seed + 1)
    z = np.random.default_rng(seed + 2).standard_normal((s["samples"], 1)).astype(np.float32)

    bar = common.Progress(snapshots[-1] + len(snapshots) * s["d_converge"], NAME, progress)
    rows, step = [], 0
    for target in snapshots:
        if target > step:
            gan.fit(ds, epochs=1, steps_per_epoch=target - step, verbose=0,
                    callbacks=[common.progress_callback(bar)])
            step = target
        converge(d_ds, s["d_converge"])
        bar.update(s["d_converge"])
        fake = np.asarray(g(z, training=False), np.float64).reshape(-1)
        p_g = common.generator_density(g, x)
        d_x = common.sigmoid(common.logits(d, x[:, None]))
        d_star = p_data / np.maximum(p_data + p_g, 1e-300)
        mask = p_data + p_g > 0.1
        weight = (p_data + p_g) / 2
        value = common.value_function(common.logits(d, real), common.logits(d, fake[:, None]))
        rows.append(dict(step=step, g_mean=float(fake.mean()), g_std=float(fake.std()),
                         max_gap=float(np.abs(d_x - d_star)[mask].max()),
                         mean_gap=float(np.trapezoid(weight * np.abs(d_x - d_star), x)),
                         value=value, c_of_g=2 * common.jsd(p_data, p_g, x) - common.LOG4,
                         curves=(p_g, d_x, d_star)))
    bar.close()

    plt = common.pyplot()
    panels = [r for r in rows if r["step"] in s["panels"]]
    fig = plt.figure(figsize=(3.2 * len(panels), 6.2))
    grid = fig.add_gridspec(2, len(panels), height_ratios=(1.1, 1))
    for i, r in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        p_g, d_x, d_star = r["curves"]
        ax.plot(x, p_data, "k:", lw=1.8, label="p_data")
        ax.plot(x, p_g, "g-", lw=1.5, label="p_g")
        ax.plot(x, d_x, "b-", lw=1.5, label="D(x), trained")
        # D* only where there is density to define it.
        ax.plot(x, np.where(p_data + p_g > 0.01, d_star, np.nan), "r--", lw=1.2,
                label="D* = p_data / (p_data + p_g)")
        ax.set_xlim(-1.0, 4.5)
        ax.set_ylim(0, max(1.05, min(2.5, 1.1 * p_g.max())))
        ax.set_title(f"step {r['step']}: |D - D*| mean {r['mean_gap']:.3f}, "
                     f"max {r['max_gap']:.2f}", fontsize=8)
        ax.set_xlabel("x")
        if i == 0:
            ax.legend(fontsize=7, loc="upper left")
    ax = fig.add_subplot(grid[1, :])
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["c_of_g"] for r in rows], "r-o", ms=4,
            label="C(G) = 2 JSD(p_data || p_g) - log 4 (densities)")
    ax.plot(steps, [r["value"] for r in rows], "b--s", ms=4,
            label="V(D, G), trained D (Monte Carlo)")
    ax.axhline(-common.LOG4, color="gray", lw=0.8, ls=":")
    ax.text(steps[-1], -common.LOG4 + 0.02, "-log 4 (p_g = p_data)", ha="right", fontsize=8)
    ax.set_xlabel("generator step")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    fig.suptitle("Goodfellow et al. 2014, Fig. 1 and Theorem 1: D converges to D*, "
                 "and V(D*, G) = 2 JSD - log 4", fontsize=10)
    files = [common.save(fig, f"{out_dir}/optimal_d.png")]
    numbers = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                if k != "curves"} for r in rows]
    return dict(files=files, settings={k: (list(v) if isinstance(v, tuple) else v)
                                       for k, v in s.items()},
                numbers=dict(snapshots=numbers,
                             max_gap=max(r["max_gap"] for r in numbers),
                             max_mean_gap=max(r["mean_gap"] for r in numbers),
                             max_value_gap=round(max(abs(r["value"] - r["c_of_g"])
                                                     for r in rows), 4)))
