"""The HC18 data as the rest of fetalhc reads it: file layout, split rule, annotations, augmentation.

The data-preparation scripts write the derived files (masks, data set CSVs, augmented copies)
with these readers; this package depends on nothing outside fetalhc.
"""
