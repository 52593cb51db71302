"""Bad corpora: each gives a CorpusError naming the file and the reason, and the file is
left as it was. (Missing, directory, empty, latin-1, NUL bytes, control characters, a
denied read, one character and shorter-than-a-block are in test_corpus.py.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gptviz import corpus as corpus_module
from gptviz.config import preset
from gptviz.corpus import MAX_BYTES, Corpus, CorpusError, read_text_file
from gptviz.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def refused(path, match):
    """Loading path fails with a CorpusError matching match; the file is untouched."""
    def state():
        if not path.is_file():
            return None
        st = path.stat()
        try:
            with open(path, "rb") as f:  # not Path.read_bytes, which some tests replace
                head = f.read(1 << 20)
        except PermissionError:  # the unreadable-file case (not as root)
            head = None
        return st.st_size, st.st_mtime_ns, head

    before = state()
    with pytest.raises(CorpusError, match=match) as info:
        Corpus.from_file(path)
    assert str(path) in str(info.value)
    assert state() == before
    return info.value


@pytest.mark.parametrize("name, data, match", [
    ("utf16.txt", "hello\n".encode("utf-16"), "is UTF-16 text"),
    ("utf16be.txt", b"\xfe\xff" + "hello\n".encode("utf-16-be"), "is UTF-16 text"),
    ("cut.txt", "naïve café —".encode()[:-1], r"not UTF-8 text \(byte 0xe2 at offset 13, line 1\)"),
    ("overlong.txt", b"line one\nline two \xc0\xaf\n", r"byte 0xc0 at offset 18, line 2"),
    ("surrogate.txt", b"ok \xed\xa0\x80 no", r"byte 0xed at offset 3"),
    ("png.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "looks binary"),
    ("elf.bin", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "looks binary"),
], ids=lambda v: v if isinstance(v, str) and v.count(".") == 1 else "")
def test_not_text(tmp_path, name, data, match):
    path = tmp_path / name
    path.write_bytes(data)
    refused(path, match)


def test_one_character_and_short_files_are_refused_by_the_trainer_too(tmp_path):
    config = preset("tiny")  # block_size 32
    for text, split in (("a", "train"), ("ab" * 100, "val")):  # 1 char; 200 chars: val has 20
        path = tmp_path / "short.txt"
        path.write_text(text)
        corpus = Corpus.from_file(path)
        with pytest.raises(CorpusError, match=f"the {split} split has .* fewer than block_size"):
            Trainer(config, corpus)


def test_mixed_line_endings_are_kept_as_they_are(tmp_path):
    """Decision: no normalisation. The model learns the file as it is; a checkpoint's
    vocabulary is exactly the file's characters, so the same file resumes it."""
    path = tmp_path / "mixed.txt"
    text = "unix line\nwindows line\r\nold mac line\rlast\n"
    path.write_bytes(text.encode())
    corpus = Corpus.from_file(path)
    assert corpus.text == text
    assert "\r" in corpus.tokenizer.chars and "\n" in corpus.tokenizer.chars
    assert corpus.decode(corpus.encode(text).tolist()) == text


def test_device_files_are_refused_without_reading(tmp_path):
    refused(Path("/dev/zero"), "is not a regular file")  # reading it would never end
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(fifo, "is not a regular file")  # opening it would wait for a writer


def test_larger_than_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:  # sparse: no disk space, no time
        f.truncate(MAX_BYTES + 1)

    def no_reading(self):
        raise AssertionError("the file was read")
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    refused(path, r"is 1\.0 GiB; gptviz reads text files of at most 1 GiB")


def test_no_read_permission(tmp_path):
    """A real chmod 000. Root reads it anyway; then the text must load (the OS allowed
    it). The message for a denied read is checked with a simulated denial in
    test_corpus.py::test_unreadable_file, so both outcomes are asserted here."""
    path = tmp_path / "locked.txt"
    path.write_text("some text to learn from\n" * 10)
    path.chmod(0)
    try:
        try:
            with open(path, "rb"):
                denied = False
        except PermissionError:
            denied = True
        if denied:
            refused(path, r"locked\.txt: cannot be read \(Permission denied\)")
        else:
            assert os.geteuid() == 0  # only root may read a mode-000 file
            assert Corpus.from_file(path).text == "some text to learn from\n" * 10
    finally:
        path.chmod(0o644)


# -- a file that changes while it is being read --------------------------------------------

def _while_reading(monkeypatch, change):
    """Make the next read_bytes call change the file just after reading it."""
    real = Path.read_bytes

    def read_then_change(self):
        data = real(self)
        change(self)
        return data
    monkeypatch.setattr(Path, "read_bytes", read_then_change)


@pytest.mark.parametrize("change", ["appended", "rewritten same size", "replaced", "truncated"])
def test_file_changing_while_loading_is_detected(tmp_path, monkeypatch, change):
    path = tmp_path / "growing.txt"
    path.write_text("first version of the text\n" * 100)

    def appended(p):
        with open(p, "a") as f:
            f.write("more text\n")

    def rewritten(p):
        st = p.stat()
        p.write_text("other version of the text\n" * 100)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # even on coarse clocks

    def replaced(p):
        new = p.with_name("new.txt")
        new.write_text("first version of the text\n" * 100)
        os.replace(new, p)

    def truncated(p):
        with open(p, "r+") as f:
            f.truncate(10)

    _while_reading(monkeypatch, {"appended": appended, "rewritten same size": rewritten,
                                 "replaced": replaced, "truncated": truncated}[change])
    with pytest.raises(CorpusError, match=r"growing\.txt: changed while it was being read"):
        read_text_file(path)
    monkeypatch.undo()
    assert read_text_file(path)  # once it stays still, it loads


def test_a_file_changed_before_loading_is_fine(tmp_path):
    path = tmp_path / "edited.txt"
    path.write_text("v1 " * 100)
    path.write_text("v2 " * 200)
    assert read_text_file(path) == "v2 " * 200


# -- a very large corpus ------------------------------------------------------------------

PROBE = """
import json, resource, sys, time
from gptviz.corpus import Corpus
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
c = Corpus.from_file(sys.argv[1])
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth": (peak - base) * 1024, "seconds": took, "chars": len(c.text),
                  "tokens": len(c.train_data) + len(c.val_data), "dtype": str(c.train_data.dtype),
                  "vocab": c.vocab_size}))
"""


def test_a_200_mb_corpus_loads_in_bounded_memory(tmp_path, shakespeare_path):
    """Peak memory growth while loading stays under 2.6x the file (the bytes and the text
    while decoding, then the text and one byte per token); it was ~21x before the tokenizer
    worked in chunks. Measured in a fresh process by its peak RSS."""
    path = tmp_path / "big.txt"
    piece = shakespeare_path.read_bytes()
    with open(path, "wb") as f:
        while f.tell() < 200_000_000:
            f.write(piece)
    size = path.stat().st_size
    r = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    print(f"{size / 1e6:.0f} MB corpus: peak growth {m['growth'] / 1e6:.0f} MB "
          f"({m['growth'] / size:.2f}x), {m['seconds']:.1f} s")
    assert m["chars"] == m["tokens"] == size and m["vocab"] == 65 and m["dtype"] == "torch.uint8"
    assert m["growth"] < 2.6 * size


def test_the_chunked_tokenizer_matches_a_plain_lookup_across_chunks(monkeypatch):
    from gptviz import tokenizer
    monkeypatch.setattr(tokenizer, "CHUNK", 7)  # many chunks, boundaries everywhere
    text = "Größe — naïve café 日本 \U0001f600\n\r\t!" * 5
    tok = tokenizer.CharTokenizer.from_text(text)
    assert tok.chars == "".join(sorted(set(text)))
    assert tok.encode(text).tolist() == [tok.stoi[c] for c in text]
    with pytest.raises(tokenizer.TokenizerError, match="'Z'"):
        tok.encode(text + "Z")
    assert corpus_module.Corpus(text).train_data.dtype.itemsize == 1
