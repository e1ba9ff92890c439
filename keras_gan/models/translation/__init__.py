"""Image-to-image translation (issue 29): pix2pix (Isola et al. 2017) and
CycleGAN (Zhu et al. 2017).

- `networks`: the U-Net generator and the PatchGAN discriminator;
- `losses`: L1, cycle and identity terms, the GAN families on patch maps;
- `history`: CycleGAN's pool of earlier fakes;
- `pix2pix`, `cyclegan`: the models (`GenerativeModel`s, plain `fit`);
- `schedules`: the papers' constant-then-linear-decay learning rate;
- `registry`: `build_translator(name, ...)` and `list_translators()`.

Empty of imports on purpose, as `keras_gan.models`: importing one module
imports only it.
"""
