"""Kernel templates: real modules, each with an element type line
``T = float32  # element type`` that ``runtime.template`` rewrites to make
the module of another dtype. They are read as text and loaded from the
kernel cache folder, not imported from here."""
