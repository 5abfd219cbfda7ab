"""The core of `imp`: clock, bounded fifos, the rmem allocator, frame pools and the bind graph.

Nothing here talks to a driver except :mod:`imp.core.alloc` (mmap and cache sync of
``/dev/rmem``); the rest is plain data structures shared by every module.
"""
