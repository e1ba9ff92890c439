"""Scoring generators: the evaluators (classifier features, Inception),
the metrics computed from their features and `keras-gan eval`.

Empty on purpose: importing a module of the package imports only it."""
