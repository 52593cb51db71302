"""Tunable distances and weights of the layered layout, and its point type."""

from __future__ import annotations

DEFAULT_SIZE = (40.0, 24.0)   # width, height of a node missing from `sizes`
DUMMY_WEIGHT = 4.0            # pull of a long edge's bend point toward straightness, vs a node's 1
LONE_WEIGHT = 0.01            # times the pull of a leaf hanging off one vertex (a constant)
COORDINATE_ROUNDS = 2         # down-and-up sweeps of the y assignment
PARALLEL_SPREAD = 6.0         # at most this far apart, the ends of parallel edges
LONG_SPAN = 3                 # an edge spanning more layers than this runs along a lane
LANE_GAP = 8.0                # between lanes, and from the nodes to the nearest lane
PORT_OFFSET = 4.0             # a bus leaves or enters a node this far off its centre (at most h/4)
TRACK_GAP = 6.0               # at most this far apart, the upright tracks in a gap between columns
EPS = 1e-6                    # lines meeting closer than this to an end touch rather than cross

Point = tuple[float, float]
