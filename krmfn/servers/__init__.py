"""The built-in model servers, one module each: `tensorflow` (TensorFlow Serving) and
`torchserve` (TorchServe). Each knows its server's command line, ports, probes, the
configuration it needs and how its pod stops; `shutdown` holds what both share about
stopping. `krmfn.compiler` calls them and stays a reading of the contract.
"""
