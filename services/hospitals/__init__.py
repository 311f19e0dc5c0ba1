"""Hospital map (issue 11): national institutions with a spatial index, HIRA imports, department guidance."""

from services.hospitals.guidance import Guidance
from services.hospitals.model import DEFAULT_KINDS, EMERGENCY, KINDS, PHARMACY, Bounds, Filters, Institution, Nearby
from services.hospitals.service import HospitalService, Markers, Place

__all__ = ["DEFAULT_KINDS", "EMERGENCY", "KINDS", "PHARMACY", "Bounds", "Filters", "Guidance", "HospitalService", "Institution", "Markers",
           "Nearby", "Place"]
