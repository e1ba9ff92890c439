"""A Gradio demo of the exported generators: latent sampling, interpolation,
and projection of the user's own pictures (drawn or uploaded) to latents;
and of the exported image-to-image translators, which translate them.

Start it with `python -m demo` or `keras-gan demo` (flags: `--help`). It
serves every folder of `saved_models/` (or `--models DIR`) that holds a
`generator.onnx`, run by ONNX Runtime through `export/runtime.py`, and
every one that holds a translator (`translator.onnx`, or `ab/` and `ba/`
with one each), run through `export/translator_runtime.py`.

- `demo.models`: finding and loading the models and their cards;
- `demo.card`: the model panel: the card's scores beside real data's, with
  what each means;
- `demo.render`: image grids, 2D scatter plots, GIFs (numpy and PIL);
- `demo.checks`: the caps on a request and the generic checks;
- `demo.service`: the requests: validation, sampling, interpolation, and
  the `Service` that writes the files;
- `demo.pictures`: the user's picture (an array or an upload, its size read
  from the header before decoding) -> a checked, shrunk array;
- `demo.projecting`: that picture -> the generator's input -> its latent
  (needs `keras-gan encoder`'s encoder.onnx and projector.onnx);
- `demo.guessing`: the same input -> the top classes of the classifier a
  semi-supervised GAN's export holds beside its generator (classifier.onnx,
  run through `export/classifier_runtime.py`);
- `demo.translators`: finding and loading the translators, their panel;
- `demo.translating`: the user's picture -> the translator's input -> its
  translation (and back, for two-way translators);
- `demo.app`: the Gradio page and the command line; `demo.translate_tab`:
  the page's Translate tab (the only modules that import gradio).

Nothing here imports TensorFlow, Keras or `keras_gan` (a test checks), so
the demo starts in seconds and needs only numpy, onnxruntime, pillow and
gradio. Nothing is imported here either: `import demo` stays instant.
"""
