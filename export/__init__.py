"""Generators out of Keras: SavedModel and ONNX writers, and a runtime.

- `export.runtime`: `OnnxGenerator`, needs only numpy + onnxruntime (never
  TensorFlow), for apps that serve the exported models.
- `export.writer`: `write_generator(generator, out_dir, fields)`, the
  TensorFlow side (Keras and TensorFlow imported when a model is written).
- `export.classifier` / `export.classifier_runtime`: a semi-supervised
  GAN's classifier (images -> class probabilities) written beside its
  generator, and `OnnxClassifier`, numpy + onnxruntime only.

This is the lower layer: `keras_gan` imports it (`keras_gan.training.run_folder`
reads a run folder and calls `write_generator`), nothing here imports
`keras_gan` (tests/test_export.py checks). Nothing is imported here, so
`import export.runtime` stays light.
"""
