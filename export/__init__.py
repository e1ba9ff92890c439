"""Generators out of Keras: SavedModel and ONNX writers, and a runtime.

- `export.runtime`: `OnnxGenerator`, needs only numpy + onnxruntime (never
  TensorFlow), for apps that serve the exported models.
- `export.writer`: `export_generator(...)`, the TensorFlow side.

Nothing is imported here, so `import export.runtime` stays light.
"""
