"""Figure 4: noise helps overlap (Arjovsky and Bottou 2017, "Towards
principled methods for training GANs", Section 3.2; Sonderby et al. 2017;
Salimans et al. 2016 for the label tricks).

Left: the two separated Gaussians of figure 3 (real N(2, 0.3^2), fake
N(-2, 0.3^2)), a discriminator trained to convergence with `GAN`'s
`instance_noise` at several standard deviations, and with `label_noise`
(one-sided: real targets 1 - U(0, N)). Noise on both real and fake samples
makes their distributions overlap, so the best D is no longer 0 at the
fakes and has a slope there: the generator's saturating loss
log(1 - D(G(z))) gets a gradient again (dotted: its size per sample,
E|d/dx log(1 - D(x + noise))| at each x, by autodiff). Label noise only
caps D on the real side; at the fakes D stays saturated.

Right: real runs with the saturating loss (`gan`) where D wins early, as
in figure 2 (D pre-trained, SGD generator), plain and with each trick
decaying linearly to 0 over the run (`anneal_steps`): the generator's
gradient norm per step (`grad_norms=True`, `StepHistory`), D(G(z)), and
where the generator's samples are.
"""

from __future__ import annotations

import numpy as np

from keras_gan.figures import common
from keras_gan.figures.disjoint import FAKE_MEAN, REAL_MEAN, STD, gauss_generator

NAME = "noise"
TITLE = "Noise helps overlap"
FULL = dict(sigmas=(0.0, 0.5, 1.0, 2.0), label_noise=0.3, d_steps=800, batch=256, width=32,
            d_lr=1e-3, g_lr=0.02, data="gauss1d:3,0.5", pretrain=300, steps=600,
            run_noise=1.5, first=50, draws=64)
TINY = dict(sigmas=(0.0, 1.0), label_noise=0.3, d_steps=250, batch=256, width=32, d_lr=2e-3,
            g_lr=0.02, data="gauss1d:3,0.5", pretrain=150, steps=40, run_noise=1.5, first=30,
            draws=16)


def _noise(sigma, draws: int = 64) -> np.ndarray:
    """`draws` quantiles of N(0, sigma^2) (just 0 without noise): the
    same values at every x (common random numbers), so the expectations
    over the noise are smooth, deterministic curves in x."""
    from scipy import special

    if not sigma:
        return np.zeros(1)
    return sigma * special.ndtri((np.arange(draws) + 0.5) / draws)


def _loss_slope(d, x, sigma, draws: int = 64) -> np.ndarray:
    """E_noise |d/dx log(1 - D(x + noise))| per x, noise ~ N(0, sigma^2):
    what the saturating generator loss passes back to a sample at x when D
    sees noisy samples (by autodiff of the library's `minimax_g_loss`)."""
    import tensorflow as tf

    from keras_gan.models.losses import minimax_g_loss

    x = tf.constant(np.asarray(x, np.float32))
    total = np.zeros(x.shape[0])
    noise = _noise(sigma, draws)
    for eps in noise:
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = d(x + float(eps), training=False)
            # minimax_g_loss is a batch mean: times the batch, per-sample gradients.
            loss = minimax_g_loss(logits) * float(x.shape[0])
        total += np.abs(tape.gradient(loss, x).numpy()[:, 0])
    return total / len(noise)


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    import keras

    from keras_gan.data.pipeline import make_dataset
    from keras_gan.data.sources import sample_gauss1d
    from keras_gan.figures.disjoint import _stream
    from keras_gan.figures.saturation import _GeneratorMean
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_mlp_discriminator, build_mlp_generator
    from keras_gan.training.callbacks import StepHistory

    s = {**(TINY if tiny else FULL), **overrides}
    tricks = [(f"instance noise {sg:g}", dict(instance_noise=sg)) for sg in s["sigmas"]]
    tricks.append((f"label noise {s['label_noise']:g}", dict(label_noise=s["label_noise"])))
    runs_spec = [("plain", {}),
                 (f"instance noise {s['run_noise']:g}, annealed",
                  dict(instance_noise=s["run_noise"], anneal_steps=s["steps"])),
                 (f"label noise {s['label_noise']:g}, annealed",
                  dict(label_noise=s["label_noise"], anneal_steps=s["steps"]))]
    bar = common.Progress(len(tricks) * s["d_steps"]
                          + len(runs_spec) * (s["pretrain"] + s["steps"]), NAME, progress)

    # -- D on two separated Gaussians, with each trick -----------------------------
    keras.utils.set_random_seed(seed)
    real = sample_gauss1d(f"gauss1d:{REAL_MEAN},{STD}", 100_000, seed + 1)
    ds = _stream(real, s["batch"], seed)
    g = gauss_generator(FAKE_MEAN, STD)
    d_init = build_mlp_discriminator((1,), width=s["width"])
    x = np.linspace(-4.0, 4.0, 201, dtype=np.float32)[:, None]
    z = np.random.default_rng(seed + 5).standard_normal((2000, 1)).astype(np.float32)
    fakes = np.asarray(g(z, training=False))
    curves, per_trick = {}, {}
    for label, kwargs in tricks:
        d = keras.models.clone_model(d_init)
        d.set_weights(d_init.get_weights())
        gan = build_gan("gan", g, d, seed=seed, **kwargs)
        gan.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5), keras.optimizers.SGD(0.0))
        common.d_trainer(gan)(ds, s["d_steps"])
        bar.update(s["d_steps"])
        sigma = kwargs.get("instance_noise", 0.0)
        # What D says of a sample as it sees it in training: x plus the noise.
        noise = _noise(sigma, s["draws"])
        d_x = np.mean([common.sigmoid(common.logits(d, x + eps)) for eps in noise], axis=0)
        slope = _loss_slope(d, x, sigma, s["draws"])
        curves[label] = (d_x, slope)
        fake_d = np.mean([common.sigmoid(common.logits(d, fakes + eps)) for eps in noise])
        per_trick[label] = dict(d_at_fakes=float(fake_d),
                                g_loss_slope_at_fakes=float(np.mean(
                                    _loss_slope(d, fakes[:500], sigma, s["draws"]))))

    # -- real runs: D wins early, saturating loss, with and without tricks ----------
    keras.utils.set_random_seed(seed)
    g0 = build_mlp_generator(1, (1,), width=s["width"])
    d0 = build_mlp_discriminator((1,), width=s["width"])
    data, _ = make_dataset(s["data"], s["batch"], seed=seed, num_points=100_000)
    runs = {}
    for label, kwargs in runs_spec:
        g2, d2 = keras.models.clone_model(g0), keras.models.clone_model(d0)
        g2.set_weights(g0.get_weights())
        d2.set_weights(d0.get_weights())
        gan = build_gan("gan", g2, d2, seed=seed, grad_norms=True, **kwargs)
        gan.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5),
                    keras.optimizers.SGD(s["g_lr"]))
        common.d_trainer(gan)(data, s["pretrain"])  # with its own trick, G not moving
        bar.update(s["pretrain"])
        history = StepHistory(["g_grad_norm", "d_fake"])
        means = _GeneratorMean()
        gan.fit(data, epochs=1, steps_per_epoch=s["steps"], verbose=0,
                callbacks=[history, means, common.progress_callback(bar)])
        runs[label] = dict(steps=history.steps, g_grad_norm=history.history["g_grad_norm"],
                           d_fake=history.history["d_fake"], g_mean=means.values,
                           g_mean_start=means.start)
    bar.close()
    first = s["first"]
    run_numbers = {label: dict(median_g_grad_norm_first=float(np.median(
                                   r["g_grad_norm"][:first])),
                               d_fake_first=float(np.mean(r["d_fake"][:first])),
                               g_mean_start=r["g_mean_start"], g_mean_end=r["g_mean"][-1])
                   for label, r in runs.items()}

    # -- the figure ------------------------------------------------------------------
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(s["sigmas"])))
    for (label, (d_x, slope)), colour in zip(list(curves.items())[:len(s["sigmas"])], colours,
                                             strict=True):
        axes[0].plot(x[:, 0], d_x, "-", color=colour, lw=1.8, label=label)
        axes[1].semilogy(x[:, 0], np.maximum(slope, 1e-8), "-", color=colour, lw=1.5,
                         label=label)
    label = tricks[-1][0]
    axes[0].plot(x[:, 0], curves[label][0], "r--", lw=1.5, label=label)
    axes[1].semilogy(x[:, 0], np.maximum(curves[label][1], 1e-8), "r--", lw=1.5, label=label)
    for ax in axes[:2]:
        ax.axvline(REAL_MEAN, color="b", lw=0.6, ls=":")
        ax.axvline(FAKE_MEAN, color="g", lw=0.6, ls=":")
        ax.set_xlabel("x (fakes at -2, real at 2)")
        ax.legend(fontsize=7)
    axes[0].set_title("D(x) as D sees x in training", fontsize=9)
    axes[1].set_title("gradient to G: E|d/dx log(1 - D(x + noise))|", fontsize=9)
    styles = dict(zip(runs, ("r-", "b-", "m-"), strict=False))
    for label, r in runs.items():
        axes[2].semilogy(r["steps"], r["g_grad_norm"], styles[label], lw=1, label=label)
        axes[3].plot(r["steps"], r["g_mean"], styles[label], label=label)
        axes[3].plot(r["steps"], r["d_fake"], styles[label][0] + ":", lw=1)
    axes[2].set_title("gan (saturating), D pre-trained: g_grad_norm", fontsize=9)
    axes[2].set_xlabel("generator step")
    axes[2].legend(fontsize=7)
    axes[3].axhline(float(s["data"].split(":")[1].split(",")[0]), color="k", ls="--", lw=0.8,
                    label="data mean")
    axes[3].set_title("mean of G's samples (solid), D(G(z)) (dotted)", fontsize=9)
    axes[3].set_xlabel("generator step")
    axes[3].legend(fontsize=7)
    fig.suptitle("Instance noise makes the supports overlap: D stops saturating and G gets a "
                 "gradient; label noise does not reach the fakes", fontsize=10)
    files = [common.save(fig, f"{out_dir}/noise.png")]
    numbers = dict(discriminator={k: {kk: float(f"{vv:.4g}") for kk, vv in v.items()}
                                  for k, v in per_trick.items()},
                   runs={k: {kk: float(f"{vv:.4g}") for kk, vv in v.items()}
                         for k, v in run_numbers.items()})
    return dict(files=files, settings={k: (list(v) if isinstance(v, tuple) else v)
                                       for k, v in s.items()}, numbers=numbers)
