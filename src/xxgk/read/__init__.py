"""Reading a file as a person sees it: open it, identify form, unit and year, match the tables, read every form cell."""
