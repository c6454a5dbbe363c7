"""One reporting cycle: the returns of one form and year by unit, the register, the totals; files on disk and the worker pool."""
