"""Figure 3: when D is too strong, the JSD says nothing (Arjovsky, Chintala
and Bottou 2017, "Wasserstein GAN": Example 1 and Figure 2).

Left: the "parallel lines". Real data is (0, Z), Z ~ U[0, 1]; the generator
makes (theta, Z), moved step by step toward the data (theta from 1 to 0).
For each theta a fresh discriminator (`GAN`'s own `d_step`, minimax loss)
and a fresh WGAN-GP critic (`wgan-gp`'s `d_step`, gradient penalty 10) are
trained to convergence against that fixed generator. The discriminator's
estimate of the JSD, (V(D, G) + log 4) / 2 (Theorem 1: V(D*, G) = 2 JSD -
log 4), stays at log 2 for every theta != 0, however close: the supports
are disjoint. The critic's estimate of the earth mover's distance,
E f(x) - E f(G(z)), falls with |theta|, as W = |theta| does.

Right: two separated 1D Gaussians (real N(2, 0.3^2), fake N(-2, 0.3^2)),
the blue and green curves of the WGAN paper's Figure 2: the trained
discriminator saturates (D(x) is 0 at the fakes, with no slope there), the
critic is close to linear between them (slope ~1: a usable gradient).

The generators here are fixed networks (`keras_gan` contract: input z,
output the sample), so only D and the critic train, as in the paper's
figures.
"""

from __future__ import annotations

import math

import numpy as np

from keras_gan.figures import common

NAME = "disjoint"
TITLE = "When D is too strong, JSD says nothing"
FULL = dict(thetas=(1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0),
            d_steps=800, critic_steps=800, batch=256, width=64, d_lr=1e-3, c_lr=1e-3,
            gauss_steps=800, samples=20_000)
TINY = dict(thetas=(1.0, 0.5, 0.25), d_steps=400, critic_steps=400, batch=256, width=32,
            d_lr=2e-3, c_lr=2e-3, gauss_steps=400, samples=10_000)
REAL_MEAN, FAKE_MEAN, STD = 2.0, -2.0, 0.3


def line_generator(theta: float = 1.0):
    """z (1,) -> (theta, Phi(z)): the parallel line at x = theta (Phi the
    normal CDF, so the second coordinate is U[0, 1]). theta is the bias of
    the layer named "theta"; `set_theta` moves it."""
    import keras
    from keras import layers, ops

    z = keras.Input((1,), name="z")
    u = layers.Lambda(lambda t: 0.5 * (1.0 + ops.erf(t / math.sqrt(2.0))), name="uniform")(z)
    shift = layers.Dense(1, kernel_initializer="zeros",
                         bias_initializer=keras.initializers.Constant(theta), name="theta")(z)
    return keras.Model(z, layers.Concatenate(name="images")([shift, u]), name="line")


def set_theta(generator, theta: float) -> None:
    generator.get_layer("theta").bias.assign([float(theta)])


def gauss_generator(mean: float, std: float):
    """z (1,) -> mean + std * z: a fixed 1D Gaussian generator."""
    import keras
    from keras import layers

    z = keras.Input((1,), name="z")
    x = layers.Dense(1, kernel_initializer=keras.initializers.Constant(std),
                     bias_initializer=keras.initializers.Constant(mean), name="images")(z)
    return keras.Model(z, x, name="gauss")


def _snapshot(network, optimizer):
    """The network's weights and its optimizer's variables (moments, step
    count, learning rate), to restore with `_reset`."""
    return network.get_weights(), [v.numpy() for v in optimizer.variables]


def _reset(network, optimizer, state) -> None:
    """Back to the initial weights and a fresh optimizer."""
    network.set_weights(state[0])
    for v, value in zip(optimizer.variables, state[1], strict=True):
        v.assign(value)


def _stream(points, batch, seed):
    import tensorflow as tf

    return (tf.data.Dataset.from_tensor_slices(points).shuffle(len(points), seed=seed)
            .repeat().batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def _slope(network, x) -> np.ndarray:
    """|d network(x) / dx| per sample (the first input coordinate's)."""
    import tensorflow as tf

    x = tf.constant(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = network(x, training=False)
    return np.abs(tape.gradient(out, x).numpy()[:, 0])



def _judges(g, dims: int, s: dict, seed: int):
    """A `gan` discriminator and a `wgan-gp` critic, fresh MLPs on `dims`-D
    samples of the fixed generator `g` (its optimizer a no-op: only D trains)."""
    import keras

    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_mlp_discriminator

    gan = build_gan("gan", g, build_mlp_discriminator((dims,), width=s["width"]), seed=seed)
    gan.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5), keras.optimizers.SGD(0.0))
    wgan = build_gan("wgan-gp", g, build_mlp_discriminator((dims,), width=s["width"]),
                     seed=seed)
    wgan.compile(keras.optimizers.Adam(s["c_lr"], beta_1=0.5, beta_2=0.9),
                 keras.optimizers.SGD(0.0))
    return gan, wgan


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    import keras

    from keras_gan.data.sources import sample_gauss1d
    s = {**(TINY if tiny else FULL), **overrides}
    thetas = [float(t) for t in s["thetas"]]
    bar = common.Progress(len(thetas) * (s["d_steps"] + s["critic_steps"])
                          + 2 * s["gauss_steps"], NAME, progress)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)

    # -- the parallel lines ------------------------------------------------
    n = 100_000
    real = np.stack([np.zeros(n), rng.uniform(size=n)], 1).astype(np.float32)
    ds = _stream(real, s["batch"], seed)
    g = line_generator()
    gan, wgan = _judges(g, 2, s, seed)
    d, critic = gan.discriminator, wgan.discriminator
    train_d, train_critic = common.d_trainer(gan), common.d_trainer(wgan)
    d0, c0 = _snapshot(d, gan.d_optimizer), _snapshot(critic, wgan.d_optimizer)
    test_real = np.stack([np.zeros(s["samples"]), rng.uniform(size=s["samples"])], 1)
    z = rng.standard_normal((s["samples"], 1)).astype(np.float32)
    rows = []
    for theta in thetas:
        set_theta(g, theta)
        fake = np.asarray(g(z, training=False))
        _reset(d, gan.d_optimizer, d0)
        train_d(ds, s["d_steps"])
        bar.update(s["d_steps"])
        value = common.value_function(common.logits(d, test_real), common.logits(d, fake))
        _reset(critic, wgan.d_optimizer, c0)
        train_critic(ds, s["critic_steps"])
        bar.update(s["critic_steps"])
        emd = float(np.mean(common.logits(critic, test_real))
                    - np.mean(common.logits(critic, fake)))
        rows.append(dict(theta=theta, jsd_estimate=(value + common.LOG4) / 2, emd_estimate=emd,
                         value=value))

    # -- two separated Gaussians -------------------------------------------
    real1 = sample_gauss1d(f"gauss1d:{REAL_MEAN},{STD}", n, seed + 1)
    ds1 = _stream(real1, s["batch"], seed)
    g1 = gauss_generator(FAKE_MEAN, STD)
    gan1, wgan1 = _judges(g1, 1, s, seed)
    d1, critic1 = gan1.discriminator, wgan1.discriminator
    common.d_trainer(gan1)(ds1, s["gauss_steps"])
    bar.update(s["gauss_steps"])
    common.d_trainer(wgan1)(ds1, s["gauss_steps"])
    bar.update(s["gauss_steps"])
    bar.close()
    x = np.linspace(-4.0, 4.0, 401, dtype=np.float32)[:, None]
    fakes = np.asarray(g1(z[:2000], training=False))
    d_x = common.sigmoid(common.logits(d1, x))
    f_x = common.logits(critic1, x)
    between = (x[:, 0] > FAKE_MEAN) & (x[:, 0] < REAL_MEAN)
    critic_fit = np.polyfit(x[between, 0], f_x[between], 1)
    gauss = dict(d_slope_at_fakes=float(np.mean(_slope(d1, fakes) * common.sigmoid(
                     common.logits(d1, fakes)) * (1 - common.sigmoid(common.logits(d1, fakes))))),
                 d_at_fakes=float(np.mean(common.sigmoid(common.logits(d1, fakes)))),
                 critic_slope_at_fakes=float(np.mean(_slope(critic1, fakes))),
                 critic_linear_slope=float(critic_fit[0]),
                 critic_linear_r2=float(1 - np.var(f_x[between] - np.polyval(critic_fit,
                                                                              x[between, 0]))
                                        / np.var(f_x[between])))

    # -- the figure ----------------------------------------------------------
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    ax.scatter(real[:300, 0], real[:300, 1], s=3, c="k", label="real: (0, Z)")
    for theta, colour in ((thetas[0], "tab:green"), (thetas[len(thetas) // 2], "tab:olive")):
        ax.scatter(np.full(300, theta), real[300:600, 1], s=3, c=colour,
                   label=f"G: ({theta:g}, Z)")
    ax.set_xlim(-0.2, 1.2)
    ax.set_title("parallel lines (Arjovsky et al. 2017, Example 1)", fontsize=9)
    ax.legend(fontsize=7, loc="center right")
    ax = axes[1]
    th = [r["theta"] for r in rows]
    ax.plot(th, [r["jsd_estimate"] for r in rows], "r-o", ms=4,
            label="JSD estimate, trained D: (V + log 4) / 2")
    ax.plot(th, [r["emd_estimate"] for r in rows], "b-s", ms=4,
            label="EMD estimate, trained WGAN-GP critic")
    ax.plot(th, th, "b:", lw=0.8, label="EMD = |theta|")
    ax.axhline(common.LOG2, color="r", ls=":", lw=0.8, label="log 2")
    ax.invert_xaxis()
    ax.set_xlabel("theta (the generator moves right to left)")
    ax.set_ylabel("nats / distance")
    ax.set_title("what D and the critic say as G approaches", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[2]
    from scipy import stats

    ax.plot(x[:, 0], stats.norm.pdf(x[:, 0], REAL_MEAN, STD) / 1.4, "b-", lw=0.8,
            label="real density")
    ax.plot(x[:, 0], stats.norm.pdf(x[:, 0], FAKE_MEAN, STD) / 1.4, "g-", lw=0.8,
            label="fake density")
    ax.plot(x[:, 0], d_x, "r-", lw=2, label="GAN discriminator D(x)")
    ax2 = ax.twinx()
    ax2.plot(x[:, 0], f_x, "c-", lw=2, label="WGAN-GP critic f(x)")
    ax2.set_ylabel("critic value", color="c")
    ax.set_xlabel("x")
    ax.set_title("two separated Gaussians (WGAN paper, Figure 2)", fontsize=9)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper left")
    fig.suptitle("Disjoint supports: the JSD is stuck at log 2, the earth mover's distance "
                 "is not", fontsize=10)
    files = [common.save(fig, f"{out_dir}/disjoint.png")]
    return dict(files=files, settings={k: (list(v) if isinstance(v, tuple) else v)
                                       for k, v in s.items()},
                numbers=dict(lines=[{k: round(v, 4) for k, v in r.items()} for r in rows],
                             gaussians={k: float(f"{v:.4g}") for k, v in gauss.items()}))
