"""Python's cycle collector held off while many small objects are made at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector held off for a burst of work that makes many small objects and keeps many (reading a
    return with the reader's remembered pieces about, reading back stored returns and making the master): its passes
    would look through every object kept again and again (a tenth to a third of the time). Reference counting still
    frees what is dropped; any cycle made meanwhile is collected once it is back on. Nested uses leave it to the
    outermost.

    What the burst made and still holds is then moved to the oldest generation unexamined (freeze then unfreeze: two
    list splices): the first young pass after it would look through all of it once more (the evidence and its
    1,000 audits, a tenth of adding one return to a collect). A cycle made meanwhile is collected by the next full
    pass. Objects someone else froze are left frozen: then the young pass is left to do its work."""
    was = held()
    try:
        yield
    finally:
        released(was)


def held() -> bool:
    """The cycle collector held off, as paused_gc does, where a `with` cannot be used; whether it was on, for
    released()."""
    was = gc.isenabled()
    gc.disable()
    return was


def released(was: bool) -> None:
    """The cycle collector back as it was before held() (`was`), what was made meanwhile moved to the oldest generation
    unexamined (see paused_gc)."""
    if was:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()
