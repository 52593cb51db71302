import pytest

from gptviz.openmp import one_thread


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: torch's thread team only adds waiting (10x slower on a busy 2-core machine).
    One thread for this thread only: torch.set_num_threads would also change the count that
    threads started later begin with (tests/test_trainer_shards.py needs torch's default)."""
    with one_thread():
        yield
