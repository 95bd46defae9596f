"""Example models and data sets built on symgraph."""
