"""The event loops of the gRPC and REST fronts: uvloop's (libuv) where it is installed, asyncio's otherwise.

uvloop runs the same asyncio API (grpc.aio and aiohttp both support it) with its callbacks, timers and cross-thread
wake-ups in C. On the 2-core AMD VM, in three alternating pairs of `bench/serving.py` runs
(`bench/serving_loops.py`, ``bench/results/serving_loops.json``), it took the batching server's Python CPU per gRPC
request from 0.45-0.48 ms to 0.41-0.44 ms, and throughput / in-process from 0.47-0.50x to 0.51-0.52x (gRPC with
batching) and from 0.37-0.39x to 0.40-0.42x (gRPC without). ``ZOO_SERVING_LOOP=asyncio`` keeps asyncio's own loop
(a debugging aid: asyncio's debug mode and some profilers know only its loop).
"""
from __future__ import annotations

import asyncio
import importlib.util
import os


def loop_kind() -> str:
    """``"uvloop"`` or ``"asyncio"``: what `new_event_loop` makes in this process."""
    if os.environ.get("ZOO_SERVING_LOOP", "").lower() == "asyncio" or importlib.util.find_spec("uvloop") is None:
        return "asyncio"
    return "uvloop"


def new_event_loop() -> asyncio.AbstractEventLoop:
    if loop_kind() == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
