"""A user's script next to its own ``models`` package must get both right.

Run from a directory holding a ``models/`` package whose ``__init__`` sets
``OWNER = "user"``; exits non-zero (with a message) when probgen's zoo and the
user's package collide. Used by tests/test_packaging.py and by .ci/run on the
bare (wheel) install.
"""

import sys

import models  # the user's own package, found first on sys.path (the script's folder)
import probgen

assert getattr(models, "OWNER", None) == "user", f"`import models` gave {models.__file__}"
names = probgen.list_models()
assert "eight_schools" in names, names
model = probgen.get_model("eight_schools")
assert type(model).__module__ == "probgen.zoo.eight_schools", type(model).__module__
assert model.prepare().size("school") == 8
import models as again  # noqa: E402  (still the user's after probgen loaded its zoo)

assert again is models and sys.modules["models"] is models
print("ok: probgen.zoo and the user's models package coexist")
