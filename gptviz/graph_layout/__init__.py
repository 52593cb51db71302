"""Layered left-to-right layout of a directed acyclic graph (Sugiyama style), pure Python.

`layered_layout(nodes, edges, sizes)` puts the nodes in columns (layers) so that every edge
points right, and routes every edge as a polyline that never passes through a node:

1. Layers: longest path from the sources, in Kahn's topological order. Then every sink moves
   to the last layer of its component (the output is last); a chain of vertices (one input
   and one consumer each) moves right next to its consumers if that lengthens no more edges
   than it shortens, only ones from values that fan out anyway (w * x goes next to the sum
   using it); every source moves to just before its first consumer (a constant sits where it
   is used).
2. Dummies: a short edge, spanning 1 < k <= LONG_SPAN layers, becomes a chain through k - 1
   dummy vertices (points), one per layer crossed, so every edge of this "proper" graph joins
   adjacent layers. A long edge (an input used all over a program) gets none: see 5.
3. Order within each layer: barycentre sweeps. Sweeping down, the vertices of a layer are
   sorted by the mean position of their predecessors (vertices with none keep their slot);
   sweeping up, by their successors; a bus (its side is chosen first: see 5) counts as a
   neighbour beyond the top or bottom end of the layer. The crossings between adjacent layers
   are counted after every sweep (an inversion count, buses included) and the best order seen
   is kept.
4. Coordinates: x gives each layer a column as wide as its widest node, `layer_gap` apart,
   nodes centred. y starts stacked (`node_gap` between rectangles); then, sweeping down and
   up, each layer is pulled toward the median y of every vertex's neighbours in the previous
   layer: the positions nearest those targets (weighted least squares) that keep the order
   and the gaps are found exactly by pool-adjacent-violators (isotonic regression). Dummies
   weigh more than nodes, so edges run straight; a tree of leaves hanging off one vertex (the
   0.5 of h * 0.5) weighs little and pulls nothing, so the chain it hangs off does not drift.
5. Lanes: the long edges out of a node form its bus, a horizontal lane above or below all the
   nodes (LANE_GAP apart; the nodes move down below the upper ones), reached by a rising track
   in the gap after the node's column and left by one drop per edge in the gap before its
   target's column. Longest first, a bus takes the side where it would cross fewer buses
   already there; then, shortest first, the lane nearest the nodes where it overlaps no other,
   so a bus spanning another runs outside it. In a gap the rising tracks come first, outer
   lanes' first, then the drops, inner lanes' first, which spares most crossings among them.

Routes leave the source's right border horizontally to its column's edge, cross the gap to
the next column, run through each dummy's column at the dummy's y and enter the target's left
border; a bus's route leaves and enters PORT_OFFSET off the centre, toward its lane. A segment
inside a column runs at the y of that column's own vertex, which no other rectangle there
covers; slanted and upright segments lie in gaps between columns, lanes outside all nodes.
Parallel edges (x feeding x * x twice) get routes of their own (spread ends, or drops of their
own): `Layout.edge_routes` has one route per input edge, in input order, `Layout.routes[(a, b)]`
the first a -> b edge's. Ties are broken by input order, never by hashes: the same input gives
the same layout.

`Layout.crossings` counts the points where two lines of the drawing cross: the inversions
between adjacent layers (each parallel edge counts) and every crossing of a bus's lines. A
stretch that edges share (a bus's track and lane, the stub into a node) is one line, and lines
that only touch (meet closer than EPS to an end) do not cross.
"""

from __future__ import annotations

from .constants import DEFAULT_SIZE, LONG_SPAN
from .layout import Layout, layered_layout

__all__ = ["DEFAULT_SIZE", "LONG_SPAN", "Layout", "layered_layout"]
