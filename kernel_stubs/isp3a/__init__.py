"""The simulated ISP's physics and 3A: light on the scene, the sensor's response and noise,
the pipeline as per-frame lookup tables, AE/AWB loops and statistics.

Submodules are imported directly (``kernel_stubs.isp3a.model``...): the sensor package imports
:mod:`.lighting`, and the model imports the control store, which imports the sensor package.
"""
