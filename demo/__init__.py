"""A Gradio demo of the exported generators: latent sampling and interpolation.

Start it with `python -m demo` or `keras-gan demo` (flags: `--help`). It
serves every folder of `saved_models/` (or `--models DIR`) that holds a
`generator.onnx`, run by ONNX Runtime through `export/runtime.py`.

- `demo.models`: finding and loading the models, their cards as Markdown;
- `demo.render`: image grids, 2D scatter plots, GIFs (numpy and PIL);
- `demo.service`: the requests: validation, sampling, interpolation, files;
- `demo.app`: the Gradio page (the only module that imports gradio) and the
  command line.

Nothing here imports TensorFlow, Keras or `keras_gan` (a test checks), so
the demo starts in seconds and needs only numpy, onnxruntime, pillow and
gradio. Nothing is imported here either: `import demo` stays instant.
"""
