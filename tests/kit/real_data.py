"""Where the real public datasets are (../shared/data next to the clone, or CRM_SHARED_DATA).
Tests on them skip, saying so, when the folder is absent."""

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("CRM_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
