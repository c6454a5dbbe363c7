"""`xxgk serve`: the office's own collection site.

Each unit gets its own link, downloads its pre-filled template, uploads its return and sees
at once what to fix (the findings `xxgk check` gives); the office watches the register live
and downloads the summary at any moment.  The site adds no checking of its own: it drives a
`xxgk.collection.Collection`, one upload at a time.
"""
