"""Process setup for torch on this project's CPU machines. Import it before torch.

* OMP_WAIT_POLICY=PASSIVE: with libgomp's default spinning, two OpenMP threads on a machine whose
  two cores are shared with builds were 5-10x slower than one thread (every parallel region waits
  for a descheduled spinner); passive waiting removed that.
* glibc malloc without mmap for large blocks and without trimming: torch allocates and frees
  tensors of several MB every op, and fresh pages fault slowly in this VM; keeping freed memory in
  the heap made a training step about 4x faster.
"""

import ctypes
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallopt(-4, 0)            # M_MMAP_MAX: never mmap
    _libc.mallopt(-1, -1)           # M_TRIM_THRESHOLD: never give freed heap back
    _libc.mallopt(-2, 64 << 20)     # M_TOP_PAD: grow the heap 64 MiB at a time
    _libc.mallopt(-8, 1)            # M_ARENA_MAX: threads share the (never trimmed) main heap
except OSError:  # not glibc: leave the allocator alone
    pass
