import pytest


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory):
    """Every model of tests/builders/keras_frontend_models.py saved by every writer (built once)."""
    pytest.importorskip("tf_keras", reason="tf_keras not installed (optional extra [test])")
    pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
    from tests.builders.keras_frontend_models import save_all

    return save_all(tmp_path_factory.mktemp("keras_models"))
