"""The Theano code of the course report, ported by changing its imports."""
