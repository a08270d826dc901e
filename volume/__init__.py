"""Fill from one photo: corners -> rectified box opening, depth -> height above the floor -> fill %, empty litres, overfill.

geometry.py is pure geometry on arrays (back-projection, the rim plane, the box frame); heightmap.py turns a
depth map into heights on a top-down grid of the opening and applies the hidden-floor rule; fill.py has
the two methods (metric height map, and the seed's normalised depth); chain.py runs the models on photos;
report.py writes what `nie fill` writes; evaluate.py scores it against ground truth.
"""
