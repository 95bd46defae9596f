"""Example models and data sets built on symgraph: the CNN (Part A) and the
stacked denoising autoencoder (Part B) of the CZ4042 report, trained on MNIST.

``python -m models reproduce`` runs every experiment and writes a report
folder; see ``docs/models.md``.
"""
