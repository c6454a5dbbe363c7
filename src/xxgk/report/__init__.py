"""What the office reads and sends up: the summary workbook, the per-unit detail, Word tables, text, annotated copies."""
