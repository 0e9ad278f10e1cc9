"""dcgan under MirroredStrategy over 2 logical CPUs: stopped after step KILL_AT and resumed ends bit-identical to
the run that never stopped (used by tests/test_resume.py).

    python tests/scripts/resume_mirrored.py OUT_DIR KILL_AT
"""
import sys

from trainers import split_cpu

split_cpu(2)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.test_resume import state_of, stopped_and_resumed  # noqa: E402
from zoo_app.fit import train  # noqa: E402

out, kill_at = sys.argv[1], int(sys.argv[2])
settings = dict(config="smoke", strategy="mirrored", epochs=2, steps_per_epoch=8, backup_every=2)
a, _ = train("dcgan", "digits", out=f"{out}/whole", verbose=0, **settings)
b, _ = stopped_and_resumed("dcgan", "digits", f"{out}/stopped", kill_at, **settings)
assert a.distribute_strategy.num_replicas_in_sync == 2
for x, y in zip(state_of(a), state_of(b)):
    np.testing.assert_array_equal(x, y)
print("bit-identical after a stop at step", kill_at)
