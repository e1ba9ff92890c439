"""The models: networks, the GAN and VAE classes, their variants (`gans/`),
losses, penalties, tricks, latent clusters and the encoder.

Empty on purpose: importing a module of the package imports only it (the
public names are re-exported lazily by `keras_gan`)."""
