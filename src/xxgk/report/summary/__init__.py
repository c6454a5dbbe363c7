"""The district summary workbook, one module per sheet, and its CSV and text."""
