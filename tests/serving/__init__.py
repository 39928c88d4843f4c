"""Fixtures for the serving tests (tests/test_serving.py): a real eager-mode PyTorch model,
the TorchServe handlers that serve it (one working, one that cannot load), and the script
that makes the model's weights and computes its own output, run in a TorchServe venv.
"""
