"""Clients of the T31 kernel nodes, one module per node, speaking through the Kernel seam."""
