"""What a clinician reads beside the numbers: the growth chart (laid out once in :mod:`.chart`, drawn as
SVG by :mod:`.svg` for the page and by reportlab in :mod:`.pdf`) and the PDF report."""
