"""Crash safety: a failure or a kill at any step leaves the original or the complete new file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sidecar.errors import SidecarError, VerifyError
from sidecar.metadata import riff, safe_write
from sidecar.metadata.riff import writer
from sidecar.metadata.read_once import ReadOnce
from sidecar.metadata.safe_write import TEMP_PREFIX, Region, Rollback, cleanup_temp_files, recover
from test_riff_build import put, recorder_wav, sample_record, simple_wav

ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = sample_record(), sample_record(Description="an updated description", Notes="n" * 300)


def _scenario(tmp: Path, kind: str) -> tuple[Path, bytes, bytes]:
    """A file, its bytes now, and its bytes after the write that the test will interrupt."""
    blob = simple_wav(frames=4000, channels=2) if kind == "rewrite" else recorder_wav()
    path = put(tmp, blob)
    if kind == "in-place":
        riff.write(path, FIRST)
    original = path.read_bytes()
    ref = put(tmp, original, "ref.wav")
    result = riff.write(ref, SECOND)
    assert result.in_place == (kind == "in-place")
    expected = ref.read_bytes()
    ref.unlink()
    return path, original, expected


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


# --- exceptions at every step, in process ----------------------------------------

class Boom(OSError):
    pass


def _failing(real, fail_at: int, counter: list[int]):
    def wrapper(*args, **kwargs):
        counter[0] += 1
        if counter[0] == fail_at:
            raise Boom(f"injected failure in {real.__name__}")
        return real(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("kind", ["rewrite", "in-place"])
@pytest.mark.parametrize("target", ["fsync", "replace", "unlink", "truncate"])
def test_exception_at_every_call_leaves_old_or_new(tmp_path, monkeypatch, kind, target):
    path, original, expected = _scenario(tmp_path, kind)
    real = {"fsync": os.fsync, "replace": os.replace, "unlink": os.unlink, "truncate": None}[target]
    for fail_at in range(1, 12):
        path.write_bytes(original)
        counter = [0]
        if target == "truncate":
            # the in-place writer truncates through its file object; fail the patch write instead
            real_open = open

            def opener(file, *a, **k):
                f = real_open(file, *a, **k)
                if str(file) == str(path) and a and "+" in a[0]:
                    f.write = _failing(f.write, fail_at, counter)
                return f
            monkeypatch.setattr(writer, "open", opener, raising=False)
        else:
            monkeypatch.setattr(os, target, _failing(real, fail_at, counter))
        try:
            riff.write(path, SECOND)
            failed = False
        except SidecarError:
            failed = True
        finally:
            monkeypatch.undo()
        now = path.read_bytes()
        assert now in (original, expected), f"{target} #{fail_at}: mixed file"
        if not failed:
            assert now == expected
        cleanup_temp_files(tmp_path)
        assert _leftovers(tmp_path) == []
        assert path.read_bytes() in (original, expected)
        if counter[0] < fail_at:
            break            # the write made fewer calls than the failure point: all steps covered


def test_verify_failure_restores_the_original(tmp_path, monkeypatch):
    for kind in ("rewrite", "in-place"):
        path, original, _ = _scenario(tmp_path, kind)
        if kind == "rewrite":
            real_verify = ReadOnce.verify_copy

            def misread(self, check, offset):
                # as if the copy's first audio byte had come out wrong
                self._first[0] ^= 0xFF
                return real_verify(self, check, offset)
            monkeypatch.setattr(ReadOnce, "verify_copy", misread)
        else:
            calls = [0]
            real = writer._audio_probe

            def lying(*args):
                calls[0] += 1
                digest = real(*args)
                return digest if calls[0] == 1 else b"x" + digest[1:]
            monkeypatch.setattr(writer, "_audio_probe", lying)
        with pytest.raises(VerifyError):
            riff.write(path, SECOND)
        monkeypatch.undo()
        assert path.read_bytes() == original
        assert _leftovers(tmp_path) == []
        path.unlink()


# --- a killed writer process ------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[4])
    from sidecar.metadata import riff
    from sidecar.metadata.riff import writer
    from test_riff_build import sample_record
    path, where, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count = [0]
    def tick():
        count[0] += 1
        if count[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
    if where == "write":
        real_open = open
        class Killing:
            def __init__(self, f): self.f = f
            def __getattr__(self, n): return getattr(self.f, n)
            def __enter__(self): return self
            def __exit__(self, *a): return self.f.__exit__(*a)
            def write(self, b):
                tick()
                return self.f.write(b)
        def opener(file, *a, **k):
            f = real_open(file, *a, **k)
            return Killing(f) if os.path.basename(str(file)).startswith((".sidecar-tmp-", "x.wav")) else f
        writer.open = opener
        import sidecar.metadata.safe_write as sw
        sw.open = opener
    else:
        real = getattr(os, where)
        def killing(*a, **k):
            tick()
            return real(*a, **k)
        setattr(os, where, killing)
    riff.write(path, sample_record(Description="an updated description", Notes="n" * 300))
""")


@pytest.mark.parametrize("kind", ["rewrite", "in-place"])
@pytest.mark.parametrize("where", ["write", "fsync", "replace", "unlink"])
def test_kill_at_any_step_then_recover(tmp_path, kind, where):
    path, original, expected = _scenario(tmp_path, kind)
    tests_dir = str(Path(__file__).parent)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    kills = 0
    for at in range(1, 16):
        path.write_bytes(original)
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path), where, str(at), tests_dir],
                              env=env, capture_output=True, text=True, timeout=60)
        killed = proc.returncode == -9
        kills += killed
        assert killed or proc.returncode == 0, proc.stderr
        cleanup_temp_files(tmp_path)         # what the next start does
        now = path.read_bytes()
        assert now in (original, expected), f"kill at {where} #{at}: mixed file"
        assert _leftovers(tmp_path) == []
        if not killed:
            assert now == expected
            break
    # a rewrite renames and never unlinks; an in-place update never renames
    assert kills >= (0 if (kind, where) in {("rewrite", "unlink"), ("in-place", "replace")} else 1)


def test_recover_applies_a_pending_rollback(tmp_path):
    path = put(tmp_path, b"0123456789")
    rb = Rollback(path, [Region(2, b"23"), Region(8, b"89")], 10)
    rb.save()
    with open(path, "r+b") as f:      # a patch cut short: one region written, the file grown
        f.seek(2)
        f.write(b"XX")
        f.seek(12)
        f.write(b"tail")
    actions = recover(tmp_path)
    assert [a.action for a in actions] == ["rolled-back"]
    assert path.read_bytes() == b"0123456789"
    assert _leftovers(tmp_path) == []


def test_incomplete_rollback_file_is_removed_and_file_left_alone(tmp_path):
    path = put(tmp_path, b"0123456789")
    rb = Rollback(path, [Region(2, b"23")], 10)
    rb.save()
    data = rb.file.read_bytes()
    rb.file.write_bytes(data[:-1])     # cut during its own write: the patch never started
    assert [a.action for a in recover(tmp_path)] == ["removed"]
    assert path.read_bytes() == b"0123456789"


def test_cleanup_removes_only_prefixed_files(tmp_path):
    (tmp_path / "sub").mkdir()
    keep = put(tmp_path, b"x", "song.wav")
    junk = [put(tmp_path, b"x", TEMP_PREFIX + "a.wav-1234"), put(tmp_path / "sub", b"x", TEMP_PREFIX + "b")]
    actions = cleanup_temp_files(tmp_path)
    assert sorted(a.action for a in actions) == ["removed", "removed"]
    assert keep.exists() and not any(p.exists() for p in junk)


def test_atomic_replace_keeps_mode_and_leaves_nothing_on_error(tmp_path):
    path = put(tmp_path, b"old")
    path.chmod(0o640)
    safe_write.write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o640
    with pytest.raises(RuntimeError):
        with safe_write.atomic_replace(path) as f:
            f.write(b"partial")
            raise RuntimeError("stop")
    assert path.read_bytes() == b"new" and _leftovers(tmp_path) == []


def test_read_only_folder_fails_cleanly(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    folder = tmp_path / "ro"
    folder.mkdir()
    path = put(folder, simple_wav())
    before = path.read_bytes()
    folder.chmod(0o500)
    try:
        with pytest.raises(SidecarError):
            riff.write(path, FIRST)
    finally:
        folder.chmod(0o700)
    assert path.read_bytes() == before


def test_no_space_simulated_by_a_failing_copy(tmp_path, monkeypatch):
    path = put(tmp_path, simple_wav())
    before = path.read_bytes()

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(ReadOnce, "copy", full)
    with pytest.raises(SidecarError, match="No space left"):
        riff.write(path, FIRST)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []
    assert shutil.disk_usage(tmp_path)
