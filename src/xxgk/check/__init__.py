"""One return checked: cell values parsed, formulas recomputed, rules applied."""
