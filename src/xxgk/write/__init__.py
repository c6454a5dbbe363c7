"""Drawing a form onto an xlsxwriter sheet: the template, its styles, its guide and its live checks."""
