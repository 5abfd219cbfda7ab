"""The fake T31 drivers, one module per node, over the shared ISP core state.

``txisp`` (/dev/tx-isp), ``framechan`` (/dev/framechanN), ``ispm0`` (/dev/isp-m0) and ``rmem``
(/dev/rmem) parse the same bytes as the real drivers; ``channel``, ``controls`` and ``formats``
hold the core's per-channel and tuning state; ``engine`` is the ISP hardware that fills buffers.
"""
