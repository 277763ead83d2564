"""Taking messages in batches from an in-process queue, for batched entrypoints."""

from __future__ import annotations

from eventlet.queue import Empty, LightQueue


def take_batch(waiting: LightQueue, limit: int) -> list:
    """Wait for one item, then take whatever else is already waiting, up to `limit` in all: a batch
    grows with the backlog and never waits for company."""
    batch = [waiting.get()]
    while len(batch) < limit:
        try:
            batch.append(waiting.get_nowait())
        except Empty:
            break
    return batch
