"""The wheel users install holds every file of the package: code, the reader, prompts, the sample, data."""

import subprocess
import sys
import zipfile
from pathlib import Path

[wheel] = Path(sys.argv[1]).glob("assistant-*.whl")
names = set(zipfile.ZipFile(wheel).namelist())
tracked = subprocess.run(["git", "ls-files", "assistant"], capture_output=True, text=True, check=True).stdout.split()
missing = [f for f in tracked if f not in names]
if not tracked or missing:
    sys.exit(f"{wheel.name} lacks: {', '.join(missing) or 'every package file (git ls-files found none)'}")
print(f"{wheel.name}: all {len(tracked)} package files present")
