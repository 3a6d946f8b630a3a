"""Burgerbeest: a Telegram bot that connects residents with each other and with their
municipality."""

import os

# numpy's BLAS starts a thread per core for each product; on the bot's few cores, shared with
# the sentence model and the event loop, they wait on each other: the match index's vector
# search took 8 ms with two threads on a busy 2-core machine and 1 ms with one. This runs before
# anything imports numpy (every entry point imports this package first); a value in the
# environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
