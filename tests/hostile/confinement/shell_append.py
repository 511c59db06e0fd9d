# --- hostile: the same append, through a shell ---
import subprocess as _subprocess

for _path in _hostile_files():
    _subprocess.run(f"echo '# tampered' >> '{_path}'", shell=True, stderr=_subprocess.DEVNULL)
