"""Hospital map (issue 11): national institutions with a spatial index, HIRA imports, department guidance."""

from services.hospitals.guidance import Guidance
from services.hospitals.model import EMERGENCY, KINDS, PHARMACY, Bounds, Filters, Institution, Nearby
from services.hospitals.service import HospitalService, Markers, Place

__all__ = ["EMERGENCY", "KINDS", "PHARMACY", "Bounds", "Filters", "Guidance", "HospitalService", "Institution", "Markers",
           "Nearby", "Place"]
