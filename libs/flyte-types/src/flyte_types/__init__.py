"""The Flyte type system: Python values and types to flyteidl2 literals and back.

Data crosses process, container and language boundaries between tasks, so every value is
converted to a protobuf `Literal` (and every type to a `LiteralType`) in the wire format the
Flyte 2 control plane and the reference SDK use. The pieces:

* `TypeEngine`: the registry of transformers; `to_literal_type`, `to_literal`,
  `to_python_value`, `guess_python_type` (each conversion also has a `_sync` twin).
* `TypeTransformer`: how one Python type converts; write your own with `flyte_types.extend`.
* Interfaces: `translate_interface` / `guess_interface` between `flyte_models.NativeInterface`
  and `TypedInterface`; `translate_default_inputs` for `TaskSpec.default_inputs`.
* Task I/O: `build_inputs` / `read_inputs`, `build_outputs` / `read_outputs`, and
  `write_inputs` / `load_inputs` (`write_outputs` / `load_outputs`) for `inputs.pb` / `outputs.pb`,
  capped at `MAX_INLINE_IO_BYTES`.
* `flyte_types.io`: `File`, `Dir` and `DataFrame`, which carry data by reference.

Anything without a transformer is pickled with cloudpickle (`FlytePickle`), with a logged warning.
Errors are in `flyte_types.errors`; test helpers in `flyte_types.testing`.

`import flyte_types` loads neither pydantic, pandas, pyarrow nor cloudpickle: each is imported
when the first value that needs it is converted.
"""

from flyte_models import _registry
from flyte_types._engine import TypeEngine
from flyte_types._interface import guess_interface, translate_default_inputs, translate_interface
from flyte_types._messages import (
    INPUTS_FILE_NAME,
    MAX_INLINE_IO_BYTES,
    OUTPUTS_FILE_NAME,
    build_inputs,
    build_inputs_sync,
    build_outputs,
    build_outputs_sync,
    load_inputs,
    load_outputs,
    read_inputs,
    read_inputs_sync,
    read_outputs,
    read_outputs_sync,
    write_inputs,
    write_outputs,
)
from flyte_types._pickle import FlytePickle
from flyte_types._render import Renderable, literal_string_repr
from flyte_types._transformer import TypeTransformer
from flyte_types._version import __version__
from flyte_types.errors import TypeTransformerFailedError

__all__ = [
    "FlytePickle",
    "INPUTS_FILE_NAME",
    "MAX_INLINE_IO_BYTES",
    "OUTPUTS_FILE_NAME",
    "Renderable",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "__version__",
    "build_inputs",
    "build_inputs_sync",
    "build_outputs",
    "build_outputs_sync",
    "guess_interface",
    "literal_string_repr",
    "load_inputs",
    "load_outputs",
    "read_inputs",
    "read_inputs_sync",
    "read_outputs",
    "read_outputs_sync",
    "translate_default_inputs",
    "translate_interface",
    "write_inputs",
    "write_outputs",
]

_registry.register("flyte-types", __version__)
