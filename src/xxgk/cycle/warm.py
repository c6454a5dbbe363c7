"""Imported once by the worker processes' fork server (`xxgk.cycle.worker`): the readers, the
checks and the built-in forms loaded before any worker is forked, so a new worker starts warm
(in milliseconds) and shares these pages with the others."""

from __future__ import annotations

import gc

import xxgk.check.file  # noqa: F401 - loaded for the workers
from xxgk.forms.builtin import default_forms
from xxgk.forms.layout import layout_of

for _form in default_forms():
    layout_of(_form)
gc.collect()
gc.freeze()
