import pytest
import torch

from gptviz.corpus import Corpus, CorpusError, read_text_file


def test_tiny_shakespeare_vocabulary_and_split(shakespeare):
    assert shakespeare.vocab_size == 65
    assert len(shakespeare.train_data) == 1_003_854
    assert len(shakespeare.val_data) == 111_540
    assert shakespeare.decode(shakespeare.train_data[:14].tolist()) == "First Citizen:"


def test_split_is_first_ninety_percent_then_last_ten():
    text = "abcdefghij" * 10
    c = Corpus(text)
    assert c.decode(c.train_data.tolist()) == text[:90]
    assert c.decode(c.val_data.tolist()) == text[90:]


def test_batches_are_windows_with_targets_shifted_by_one(shakespeare):
    gen = torch.Generator().manual_seed(0)
    x, y = shakespeare.get_batch("train", 8, 32, gen)
    assert x.shape == y.shape == (8, 32)
    assert x.dtype == torch.long
    assert torch.equal(x[:, 1:], y[:, :-1])
    text = shakespeare.text
    for row_x, row_y in zip(x, y):
        window = shakespeare.decode(row_x.tolist()) + shakespeare.decode(row_y[-1:].tolist())
        assert window in text


def test_batches_are_reproducible_with_a_seeded_generator(shakespeare):
    a = shakespeare.get_batch("val", 4, 16, torch.Generator().manual_seed(5))
    b = shakespeare.get_batch("val", 4, 16, torch.Generator().manual_seed(5))
    c = shakespeare.get_batch("val", 4, 16, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])


def test_val_batches_come_from_the_val_split():
    c = Corpus("a" * 900 + "b" * 100)
    x, y = c.get_batch("val", 16, 10, torch.Generator().manual_seed(1))
    assert set(c.decode(x.flatten().tolist())) == {"b"}


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match=r"nope\.txt: no such file"):
        Corpus.from_file(tmp_path / "nope.txt")


def test_directory(tmp_path):
    with pytest.raises(CorpusError, match="is a directory"):
        Corpus.from_file(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(CorpusError, match=r"empty\.txt: is empty"):
        Corpus.from_file(p)


def test_not_utf8_names_the_byte_and_offset(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    expected = r"latin1\.txt: is not UTF-8 text \(byte 0xe9 at offset 3, line 1\)"
    with pytest.raises(CorpusError, match=expected):
        Corpus.from_file(p)


def test_binary_with_nul_bytes(tmp_path):
    p = tmp_path / "data.bin"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CorpusError, match="looks binary"):
        Corpus.from_file(p)


def test_binary_that_happens_to_be_valid_utf8(tmp_path):
    p = tmp_path / "controls.bin"
    p.write_bytes(bytes(range(1, 32)) * 200)
    with pytest.raises(CorpusError, match="looks binary"):
        Corpus.from_file(p)


def test_unreadable_file(tmp_path, monkeypatch):
    p = tmp_path / "locked.txt"
    p.write_text("hello")

    def deny(self):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(type(p), "read_bytes", deny)
    with pytest.raises(CorpusError, match=r"locked\.txt: cannot be read \(Permission denied\)"):
        read_text_file(p)


def test_byte_order_mark_is_dropped(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes("\ufeffhello world".encode("utf-8"))
    assert Corpus.from_file(p).text == "hello world"


def test_too_short_for_block_size_names_the_split(tmp_path):
    p = tmp_path / "short.txt"
    p.write_text("x" * 300)  # train 270 characters, val 30
    c = Corpus.from_file(p)
    c.check_block_size(29)
    expected = r"short\.txt: the val split has 30 characters.*block_size \+ 1 = 31"
    with pytest.raises(CorpusError, match=expected):
        c.check_block_size(30)
    with pytest.raises(CorpusError, match="the train split has 270"):
        c.check_block_size(300)
    with pytest.raises(CorpusError, match="val split"):
        c.get_batch("val", 2, 64)


def test_one_character_file_is_too_short(tmp_path):
    p = tmp_path / "one.txt"
    p.write_text("a")
    c = Corpus.from_file(p)
    with pytest.raises(CorpusError, match="split has 0 characters"):
        c.check_block_size(1)
