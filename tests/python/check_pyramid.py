"""Validate an OME-Zarr pyramid written by chunkwise: the group metadata against the NGFF JSON
schemas (0.4 for Zarr v2, 0.5 for Zarr v3, strict variants included; the schemas come from the
ngff-zarr package); then the values the schemas leave open: each level's scale, the unit of the
space axes and, on Zarr v2, the "/" chunk keys NGFF requires; then every level read by
zarr-python equal to the raw values in K.bin.

usage: python3 check_pyramid.py DIR   (DIR holds image.zarr, levels.json and K.bin per level)
"""
import importlib.util
import json
import pathlib
import sys

import jsonschema
import numpy as np
import zarr
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

d = pathlib.Path(sys.argv[1])
meta = json.loads((d / "levels.json").read_text())
image = d / "image.zarr"
fmt = meta["zarr_format"]
version = "0.4" if fmt == 2 else "0.5"

schemas = pathlib.Path(importlib.util.find_spec("ngff_zarr").submodule_search_locations[0]) / "spec" / version / "schemas"
resources = []
for f in schemas.glob("*.schema"):
    s = json.loads(f.read_text())
    resources.append((s["$id"], Resource.from_contents(s, default_specification=DRAFT7)))
registry = Registry().with_resources(resources)

if fmt == 2:
    attrs = json.loads((image / ".zattrs").read_text())
    assert json.loads((image / ".zgroup").read_text())["zarr_format"] == 2
else:
    group = json.loads((image / "zarr.json").read_text())
    assert group["node_type"] == "group" and group["zarr_format"] == 3
    attrs = group["attributes"]
for name in ("image.schema", "strict_image.schema"):
    schema = json.loads((schemas / name).read_text())
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator(schema, registry=registry).validate(attrs)

ms = (attrs["multiscales"] if fmt == 2 else attrs["ome"]["multiscales"])[0]
g = zarr.open_group(str(image), mode="r")
assert len(ms["datasets"]) == len(meta["levels"]), "one dataset per level"
for axis in ms["axes"]:
    if axis["type"] == "space":
        assert axis.get("unit") == meta["unit"], f"unit of {axis}"
    else:
        assert "unit" not in axis, f"unit on a {axis['type']} axis"
for k, level in enumerate(meta["levels"]):
    dataset = ms["datasets"][k]
    assert dataset["path"] == str(k)
    [transform] = dataset["coordinateTransformations"]
    assert transform == {"type": "scale", "scale": level["scale"]}, f"level {k}: {transform}"
    if fmt == 2:
        zarray = json.loads((image / str(k) / ".zarray").read_text())
        assert zarray["dimension_separator"] == "/", f"level {k}: {zarray}"
        # Keys nest one folder per axis ("0/1/2"), not "0.1.2" (fill-value chunks are not stored).
        nested = [p for p in (image / str(k)).glob("/".join("*" * len(level["shape"]))) if p.is_file()]
        assert nested, f"level {k}: no chunk stored under nested keys"
    z = g[str(k)]
    want = np.frombuffer((d / f"{k}.bin").read_bytes(), dtype=np.dtype(level["dtype"]).newbyteorder("<"))
    want = want.reshape(level["shape"])
    got = z[...]
    if got.shape != want.shape or not np.array_equal(got, want, equal_nan=got.dtype.kind == "f"):
        sys.exit(f"level {k}: zarr-python reads {got.shape} {got.dtype}, differs from chunkwise")
    if fmt == 3:
        assert list(z.metadata.dimension_names) == [a["name"] for a in ms["axes"]], "dimension_names"
print(f"{len(meta['levels'])} passed, 0 failed")
