"""The pure rules of node/places.py: what is kept of a peer's Place, distances, and the
bounding box the nearby timeline reads by index."""

from __future__ import annotations

import pytest

from federation.vocab.objects import parse_object
from node.errors import Invalid
from node.places import (
    Coordinates,
    bounding_box,
    distance_km,
    place_spec,
    received_place,
    within,
)


def _location(doc: object) -> dict | None:
    note = parse_object(
        {"id": "https://p.example/n/1", "type": "Note", "content": "x", "location": doc}
    )
    return received_place(note.location)


def test_places_from_peers_are_kept_cleaned():
    """Pixelfed sends coordinates as strings; Mobilizon a radius in km; a name may come
    alone; coordinates out of range are dropped, not the name; nothing usable: None."""
    assert _location(
        {"type": "Place", "name": "Lyon", "latitude": "45.76", "longitude": "4.83"}
    ) == {"type": "Place", "name": "Lyon", "latitude": 45.76, "longitude": 4.83}
    assert _location(
        {"type": "Place", "name": " Parc ", "latitude": 1, "longitude": 2, "radius": 1.5,
         "units": "km"}
    ) == {"type": "Place", "name": "Parc", "latitude": 1.0, "longitude": 2.0, "radius": 1500.0,
          "units": "m"}  # fmt: skip
    assert _location({"type": "Place", "name": "Moon", "latitude": 200, "longitude": 0}) == {
        "type": "Place",
        "name": "Moon",
    }
    assert _location({"type": "Place", "latitude": 95}) is None
    assert _location("https://p.example/places/1") is None


def test_distances_and_boxes():
    lyon, paris = Coordinates(45.7640, 4.8357), Coordinates(48.8566, 2.3522)
    assert 390 < distance_km(lyon, paris) < 395
    south, north, west, east = bounding_box(lyon, 2)
    assert south < 45.75 and north > 45.78 and west < 4.81 and east > 4.86
    # Across the antimeridian the box wraps (west > east).
    _, _, west, east = bounding_box(Coordinates(0, 179.99), 5)
    assert west > east
    # Near a pole every longitude is in.
    assert bounding_box(Coordinates(89.99, 0), 5)[2:] == (-180.0, 180.0)
    assert within({"latitude": 45.77, "longitude": 4.84}, lyon, 2)
    assert not within({"name": "somewhere"}, lyon, 2)


def test_place_parameters_are_checked():
    with pytest.raises(Invalid, match="at most 255"):
        place_spec({"name": "x" * 256, "latitude": 1, "longitude": 1})
    with pytest.raises(Invalid, match="finite"):
        place_spec({"name": "x", "latitude": "nan", "longitude": 1})
    with pytest.raises(Invalid, match="metres"):
        place_spec({"name": "x", "latitude": 1, "longitude": 1, "radius": -1})
    assert place_spec({"name": " x ", "latitude": "1", "longitude": "2"}).name == "x"
