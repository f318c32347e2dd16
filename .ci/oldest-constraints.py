"""Print pip constraints pinning each dependency of setup.cfg to its floor (its lowest allowed version)."""

import configparser
import re
from pathlib import Path

config = configparser.ConfigParser()
config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
for line in config["options"]["install_requires"].splitlines():
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*[^#]*?>=\s*([0-9][0-9A-Za-z.]*)", line)
    if match:
        print(f"{match.group(1)}=={match.group(2)}")
