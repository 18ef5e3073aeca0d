"""Every test runs in the AIS sandbox's zone unless it sets its own: `JDE_TIMEZONE` has no default
in the product (a wrong zone cuts partitions in the wrong place), and the definitions read it when
they are imported."""

import os

os.environ.setdefault("JDE_TIMEZONE", "America/Chicago")
