import pytest

from tests.oracle import MODELS


@pytest.fixture(scope="session")
def models_dir():
    if not MODELS.is_dir():
        pytest.fail(f"../shared/models not found at {MODELS}")
    return MODELS
