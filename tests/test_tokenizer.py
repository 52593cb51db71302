import numpy as np
import pytest

from gptviz.tokenizer import CharTokenizer, TokenizerError


def test_vocabulary_is_sorted_unique_characters():
    tok = CharTokenizer.from_text("hello, world")
    assert tok.chars == " ,dehlorw"
    assert tok.vocab_size == 9


def test_round_trip_including_non_ascii():
    text = "Größe — naïve café 日本\n\t!"
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert ids.dtype == np.int64
    assert tok.decode(ids) == text
    assert [tok.chars[i] for i in ids] == list(text)


def test_encode_matches_a_plain_dictionary_lookup(shakespeare):
    tok = shakespeare.tokenizer
    text = shakespeare.text[:5000]
    assert tok.encode(text).tolist() == [tok.stoi[c] for c in text]


def test_unknown_characters_are_named():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(TokenizerError, match=r"'z'"):
        tok.encode("abz")
    assert tok.unknown("abzy") == ["y", "z"]


def test_empty_text_encodes_to_nothing():
    assert CharTokenizer.from_text("ab").encode("").tolist() == []


def test_vocabulary_must_be_sorted_and_unique():
    with pytest.raises(TokenizerError):
        CharTokenizer("ba")
    with pytest.raises(TokenizerError):
        CharTokenizer("")
