"""krmfn: a KRM function that compiles TensorStack SimpleMLService resources.

Each `SimpleMLService` (`tensorstack.dev/v1beta1`) in a KRM ResourceList becomes a plain
`apps/v1` Deployment and a `v1` Service; see `krmfn.compiler` for the mapping and
`krmfn.processor` for how a ResourceList is walked.
"""

__version__ = "0.1.0"
