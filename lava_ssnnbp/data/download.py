"""Downloading idx data sets with urllib (atomic writes: temporary file + os.replace)."""
from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .core import DataError

TIMEOUT_S = 60.0  # per connection / read, seconds
_NET_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


def fetch(url: str, dest: Path, timeout: float = TIMEOUT_S) -> None:
    """Download url to dest atomically; any network/HTTP failure -> DataError."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            shutil.copyfileobj(resp, out, 1 << 20)
        os.replace(tmp, dest)
    except _NET_ERRORS as e:
        raise DataError(f"download of {url} to {dest} failed: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fetch_any(urls: list[str], dest: Path, timeout: float = TIMEOUT_S) -> None:
    """Try each mirror in turn; DataError naming all of them if every one fails."""
    errors = []
    for url in urls:
        try:
            return fetch(url, dest, timeout)
        except DataError as e:
            errors.append(str(e))
    raise DataError(f"could not download {dest.name} from any mirror: " + " | ".join(errors))


def download_idx_files(mirrors: tuple, names: list[str], folder: Path, check) -> None:
    """Fetch `<mirror><name>.gz` for each name into folder; check(tmp_path, name) validates before the rename."""
    folder = Path(folder)
    for name in names:
        dest = folder / (name + ".gz")
        if dest.exists():
            continue
        tmp = folder / (name + ".download.gz")
        fetch_any([m + name + ".gz" for m in mirrors], tmp)
        try:
            check(tmp, name)
            os.replace(tmp, dest)
        finally:
            if tmp.exists():
                os.remove(tmp)


def download_emnist(url: str, names: list[str], folder: Path, check) -> None:
    """Fetch EMNIST's gzip.zip (~540 MB), extract the named `gzip/<name>.gz` members, delete the zip."""
    folder = Path(folder)
    missing = [n for n in names if not (folder / (n + ".gz")).exists()]
    if not missing:
        return
    archive = folder / "gzip.zip"
    if not archive.exists():
        fetch_any([url], archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            for name in missing:
                tmp = folder / (name + ".download.gz")
                with zf.open(f"gzip/{name}.gz") as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                try:
                    check(tmp, name)
                    os.replace(tmp, folder / (name + ".gz"))
                finally:
                    if tmp.exists():
                        os.remove(tmp)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise DataError(f"cannot extract EMNIST files from {archive}: {e}") from None
    archive.unlink()
