"""tritonclient's HTTP client against `burnish serve`: health, metadata, config, statistics,
and inference with binary and JSON tensors checked against onnxruntime's committed outputs."""

import sys

import numpy as np
import tritonclient.http as httpclient

addr, inputs_npz, outputs_npz = sys.argv[1:4]
x = np.load(inputs_npz)["input"]
want = np.load(outputs_npz)["logits"]

client = httpclient.InferenceServerClient(url=addr, connection_timeout=10, network_timeout=30)
assert client.is_server_live() and client.is_server_ready()
assert client.is_model_ready("digits_cnn")
meta = client.get_model_metadata("digits_cnn")
assert meta["inputs"][0]["shape"] == [-1, 1, 8, 8], meta
config = client.get_model_config("digits_cnn")
assert config["max_batch_size"] == 4, config

for binary in (True, False):
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    out = httpclient.InferRequestedOutput("logits", binary_data=binary)
    result = client.infer("digits_cnn", [inp], outputs=[out], request_id="r1")
    got = result.as_numpy("logits")
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.allclose(got, want, rtol=1e-4, atol=1e-5), (binary, got, want)
    assert result.get_response()["id"] == "r1"

stats = client.get_inference_statistics("digits_cnn")
assert stats["model_stats"][0]["inference_stats"]["success"]["count"] == 2, stats
bad = httpclient.InferInput("nope", [1], "FP32")
bad.set_data_from_numpy(np.zeros(1, np.float32))
try:
    client.infer("digits_cnn", [bad])
    raise AssertionError("an unknown input must fail")
except Exception as e:  # noqa: BLE001  tritonclient raises InferenceServerException
    assert "unknown input" in str(e), e
print("tritonclient checks passed")
