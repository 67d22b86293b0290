"""The coded concepts of the exports, defined once for FHIR and DICOM SR.

LOINC codes, as in DICOM's own code dictionary (PS3.16; a test checks them in pydicom's):
HC 11984-2, BPD 11820-8, OFD 11851-3, gestational age 18185-9, and the GA method "HC,
Hadlock 1984" 11932-1. (11779-6, used by some tools for HC, is "EDD from LMP".) Units are
UCUM: ``mm`` and, for the gestational age, ``d``.
"""
from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Concept:
    code: str
    display: str      # LOINC's name, the FHIR coding's display
    meaning: str      # DICOM's code meaning (PS3.16), the SR's CodeMeaning

    def fhir(self) -> dict:
        return {"system": LOINC, "code": self.code, "display": self.display}


HEAD_CIRCUMFERENCE = Concept("11984-2", "Fetal Head Circumference US", "Head Circumference")
BIPARIETAL_DIAMETER = Concept("11820-8", "Fetal Biparietal diameter US", "Biparietal Diameter")
OCCIPITAL_FRONTAL_DIAMETER = Concept("11851-3", "Fetal Occipital frontal diameter US", "Occipital-Frontal Diameter")
GESTATIONAL_AGE = Concept("18185-9", "Gestational age", "Gestational Age")
HC_HADLOCK_1984 = Concept("11932-1", "HC, Hadlock 1984", "HC, Hadlock 1984")

ALL = (HEAD_CIRCUMFERENCE, BIPARIETAL_DIAMETER, OCCIPITAL_FRONTAL_DIAMETER, GESTATIONAL_AGE, HC_HADLOCK_1984)


def ucum(value: float, unit: str) -> dict:
    """A FHIR Quantity in UCUM (``mm``, ``d``)."""
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}
