"""Compute resources of a task: CPU, memory, accelerators, ephemeral disk and shared memory.

Quantities follow Kubernetes conventions (`"500m"`, `"1Gi"`); a `(request, limit)` pair sets both.
Accelerators are requested as a `"<device>:<count>"` string (`"A100:2"`), a bare GPU count, or a
`Device` built by one of the helpers `GPU`, `TPU`, `Neuron`, `AMD_GPU`, `HABANA_GAUDI` and
`APPLE_SILICON` (which also select MIG partitions and TPU slices).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args

__all__ = [
    "AMD_GPU",
    "APPLE_SILICON",
    "GPU",
    "HABANA_GAUDI",
    "TPU",
    "Accelerators",
    "Device",
    "DeviceClass",
    "Neuron",
    "Resources",
]

logger = logging.getLogger("flyte_models")

SharedGPUType = Literal["T4 shared", "L4 shared", "A10G shared", "A10 shared", "L40S shared"]
GPUType = Literal[
    "A2",
    "A10",
    "A10G",
    "A100",
    "A100_80G",
    "B200",
    "H100",
    "H200",
    "L4",
    "L40s",
    "T4",
    "V100",
    "RTX_PRO_4500",
    "RTX_PRO_6000",
    "GB10",
    "T4 shared",
    "L4 shared",
    "A10G shared",
    "A10 shared",
    "L40S shared",
]
GPUQuantity = Literal[1, 2, 3, 4, 5, 6, 7, 8]
A100Parts = Literal["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]
A100_80GBParts = Literal["1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]
H100Parts = Literal["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]
H200Parts = Literal["1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"]
RTXPro6000Parts = Literal["1g.24gb", "2g.48gb", "4g.96gb"]
TPUType = Literal["V5E", "V5P", "V6E"]
V5EParts = Literal["1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"]
V5PParts = Literal[
    "2x2x1",
    "2x2x2",
    "2x4x4",
    "4x4x4",
    "4x4x8",
    "4x8x8",
    "8x8x8",
    "8x8x16",
    "8x16x16",
    "16x16x16",
    "16x16x24",
]
V6EParts = Literal["1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"]
NeuronType = Literal["Inf1", "Inf2", "Trn1", "Trn1n", "Trn2", "Trn2u"]
AMD_GPUType = Literal[
    "MI100", "MI210", "MI250", "MI250X", "MI300A", "MI300X", "MI325X", "MI350X", "MI355X"
]
HABANA_GAUDIType = Literal["Gaudi1"]
AppleSiliconType = Literal["AppleSilicon"]

# fmt: off
Accelerators = Literal[
    "A2:1", "A10:1", "A10:2", "A10:3", "A10:4", "A10:5", "A10:6", "A10:7", "A10:8", "A10G:1",
    "A10G:2", "A10G:3", "A10G:4", "A10G:5", "A10G:6", "A10G:7", "A10G:8", "A100:1", "A100:2",
    "A100:3", "A100:4", "A100:5", "A100:6", "A100:7", "A100:8", "A100_80G:1", "A100_80G:2",
    "A100_80G:3", "A100_80G:4", "A100_80G:5", "A100_80G:6", "A100_80G:7", "A100_80G:8", "B200:1",
    "B200:2", "B200:3", "B200:4", "B200:5", "B200:6", "B200:7", "B200:8", "H100:1", "H100:2",
    "H100:3", "H100:4", "H100:5", "H100:6", "H100:7", "H100:8", "H200:1", "H200:2", "H200:3",
    "H200:4", "H200:5", "H200:6", "H200:7", "H200:8", "L4:1", "L4:2", "L4:3", "L4:4", "L4:5",
    "L4:6", "L4:7", "L4:8", "L40s:1", "L40s:2", "L40s:3", "L40s:4", "L40s:5", "L40s:6", "L40s:7",
    "L40s:8", "V100:1", "V100:2", "V100:3", "V100:4", "V100:5", "V100:6", "V100:7", "V100:8",
    "RTX_PRO_4500:1", "RTX_PRO_6000:1", "RTX_PRO_6000:2", "GB10:1", "T4:1", "T4:2", "T4:3",
    "T4:4", "T4:5", "T4:6", "T4:7", "T4:8", "T4 shared:1", "L4 shared:1", "A10G shared:1",
    "A10 shared:1", "L40S shared:1", "Trn1:1", "Trn1:4", "Trn1:8", "Trn1:16", "Trn1n:1",
    "Trn1n:4", "Trn1n:8", "Trn1n:16", "Trn2:1", "Trn2:4", "Trn2:8", "Trn2:16", "Trn2u:1",
    "Trn2u:4", "Trn2u:8", "Trn2u:16", "Inf1:1", "Inf1:2", "Inf1:3", "Inf1:4", "Inf1:5", "Inf1:6",
    "Inf1:7", "Inf1:8", "Inf1:9", "Inf1:10", "Inf1:11", "Inf1:12", "Inf1:13", "Inf1:14",
    "Inf1:15", "Inf1:16", "Inf2:1", "Inf2:2", "Inf2:3", "Inf2:4", "Inf2:5", "Inf2:6", "Inf2:7",
    "Inf2:8", "Inf2:9", "Inf2:10", "Inf2:11", "Inf2:12", "MI100:1", "MI210:1", "MI250:1",
    "MI250X:1", "MI300A:1", "MI300X:1", "MI325X:1", "MI350X:1", "MI355X:1", "Gaudi1:1",
    "AppleSilicon", "AppleSilicon:1",
]
# fmt: on
"""Every accepted `"<device>:<count>"` accelerator string."""

DeviceClass = Literal["GPU", "TPU", "NEURON", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON"]
"""The family of an accelerator device."""

_DEVICE_CLASSES: dict[str, tuple[str, ...]] = {
    "GPU": get_args(GPUType),
    "TPU": get_args(TPUType),
    "NEURON": get_args(NeuronType),
    "AMD_GPU": get_args(AMD_GPUType),
    "HABANA_GAUDI": get_args(HABANA_GAUDIType),
    "APPLE_SILICON": get_args(AppleSiliconType),
}

# Spellings with spaces that older releases accepted; still accepted (with a warning).
_DEPRECATED_GPU_ALIASES: dict[str, str] = {"A100 80G": "A100_80G", "RTX PRO 6000": "RTX_PRO_6000"}

_GPU_PARTITIONS: dict[str, tuple[str, ...]] = {
    "A100": get_args(A100Parts),
    "A100_80G": get_args(A100_80GBParts),
    "H100": get_args(H100Parts),
    "H200": get_args(H200Parts),
    "RTX_PRO_6000": get_args(RTXPro6000Parts),
}
_TPU_PARTITIONS: dict[str, tuple[str, ...]] = {
    "V5E": get_args(V5EParts),
    "V5P": get_args(V5PParts),
    "V6E": get_args(V6EParts),
}


def _normalize_gpu_name(device: str) -> str:
    current = _DEPRECATED_GPU_ALIASES.get(device)
    if current is None:
        return device
    logger.warning("GPU type %r is deprecated, use %r instead.", device, current)
    return current


def _device_class_of(device: str) -> str | None:
    for device_class, names in _DEVICE_CLASSES.items():
        if device in names:
            return device_class
    return None


@dataclass(frozen=True)
class Device:
    """An accelerator request: how many devices of which kind, and an optional partition.

    Args:
        quantity: Number of devices (at least 1).
        device_class: The device family: `GPU`, `TPU`, `NEURON`, `AMD_GPU`, `HABANA_GAUDI` or
            `APPLE_SILICON`.
        device: The device model, e.g. `"A100"`; any model when `None`.
        partition: A MIG profile (`"1g.5gb"`) or TPU slice (`"2x2"`), if any.
    """

    quantity: int
    device_class: DeviceClass
    device: str | None = None
    partition: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise TypeError(f"Device.quantity must be an int, got {self.quantity!r}")
        if self.quantity < 1:
            raise ValueError(f"Device.quantity must be at least 1, got {self.quantity!r}")
        if self.device_class not in _DEVICE_CLASSES:
            raise ValueError(
                f"Device.device_class must be one of {list(_DEVICE_CLASSES)}, got {self.device_class!r}"
            )
        if (self.device == "AppleSilicon") != (self.device_class == "APPLE_SILICON"):
            raise ValueError(
                'Device: the Apple Silicon device is device="AppleSilicon" with '
                f'device_class="APPLE_SILICON", got device={self.device!r}, '
                f"device_class={self.device_class!r}"
            )
        if self.device_class == "APPLE_SILICON" and self.quantity != 1:
            raise ValueError(
                f"Device.quantity must be 1 for the Mac's single Metal GPU, got {self.quantity!r}"
            )


def GPU(
    device: GPUType,
    quantity: GPUQuantity,
    partition: A100Parts | A100_80GBParts | H100Parts | H200Parts | RTXPro6000Parts | None = None,
) -> Device:
    """Request NVIDIA GPUs.

    Args:
        device: The GPU model, e.g. `"T4"`, `"A100"`, or a shared (time-sliced) `"T4 shared"`.
        quantity: Number of GPUs (1-8).
        partition: A MIG profile, for A100, A100_80G, H100, H200 and RTX_PRO_6000 only.

    Returns:
        The device request.

    Raises:
        ValueError: For an unknown model, a bad quantity, or a partition the model lacks.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError(f"GPU quantity must be an int of at least 1, got {quantity!r}")
    name = _normalize_gpu_name(device)
    if name not in get_args(GPUType):
        raise ValueError(f"GPU device must be one of {list(get_args(GPUType))}, got {device!r}")
    if partition is not None:
        if name in get_args(SharedGPUType):
            raise ValueError(f"GPU partition: a shared GPU ({name}) takes none, got {partition!r}")
        allowed = _GPU_PARTITIONS.get(name)
        if allowed is None:
            raise ValueError(
                f"GPU partition: {name} cannot be partitioned, got partition={partition!r}"
            )
        if partition not in allowed:
            raise ValueError(
                f"GPU partition for {name} must be one of {list(allowed)}, got {partition!r}"
            )
    return Device(quantity=quantity, device_class="GPU", device=name, partition=partition)


def TPU(device: TPUType, partition: V5EParts | V5PParts | V6EParts | None = None) -> Device:
    """Request a Google Cloud TPU.

    Args:
        device: The TPU generation: `"V5E"`, `"V5P"` or `"V6E"`.
        partition: The slice topology, e.g. `"2x2"` (`"2x2x1"` for V5P).

    Returns:
        The device request.

    Raises:
        ValueError: For an unknown generation or a slice it does not offer.
    """
    if device not in get_args(TPUType):
        raise ValueError(f"TPU device must be one of {list(get_args(TPUType))}, got {device!r}")
    if partition is not None and partition not in _TPU_PARTITIONS[device]:
        raise ValueError(
            f"TPU partition for {device} must be one of {list(_TPU_PARTITIONS[device])}, "
            f"got {partition!r}"
        )
    return Device(quantity=1, device_class="TPU", device=device, partition=partition)


def Neuron(device: NeuronType) -> Device:
    """Request an AWS Neuron device (Inferentia or Trainium).

    Args:
        device: The model, e.g. `"Inf2"` or `"Trn1"`.

    Returns:
        The device request.

    Raises:
        ValueError: For an unknown model.
    """
    if device not in get_args(NeuronType):
        raise ValueError(
            f"Neuron device must be one of {list(get_args(NeuronType))}, got {device!r}"
        )
    return Device(quantity=1, device_class="NEURON", device=device)


def AMD_GPU(device: AMD_GPUType) -> Device:
    """Request an AMD Instinct GPU.

    Args:
        device: The model, e.g. `"MI300X"`.

    Returns:
        The device request.

    Raises:
        ValueError: For an unknown model.
    """
    if device not in get_args(AMD_GPUType):
        raise ValueError(
            f"AMD_GPU device must be one of {list(get_args(AMD_GPUType))}, got {device!r}"
        )
    return Device(quantity=1, device_class="AMD_GPU", device=device)


def HABANA_GAUDI(device: HABANA_GAUDIType) -> Device:
    """Request an Intel Habana Gaudi accelerator.

    Args:
        device: The model: `"Gaudi1"`.

    Returns:
        The device request.

    Raises:
        ValueError: For an unknown model.
    """
    if device not in get_args(HABANA_GAUDIType):
        raise ValueError(
            f"HABANA_GAUDI device must be one of {list(get_args(HABANA_GAUDIType))}, got {device!r}"
        )
    return Device(quantity=1, device_class="HABANA_GAUDI", device=device)


def APPLE_SILICON() -> Device:
    """Request the Metal GPU of the Apple Silicon Mac a devbox runs on (same as `gpu="AppleSilicon"`).

    Returns:
        The device request.
    """
    return Device(quantity=1, device_class="APPLE_SILICON", device="AppleSilicon")


CPUBaseType = Union[int, float, str]


def _check_cpu(value: Any, *, pair: bool) -> None:
    if pair and isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(
                f"Resources.cpu pair must have two elements (request, limit), got {value!r}"
            )
        for element in value:
            if element is None:
                raise ValueError(f"Resources.cpu pair elements must both be set, got {value!r}")
            _check_cpu(element, pair=False)
        return
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(
            "Resources.cpu must be a core count or a quantity string such as 1, 0.5 or '100m', "
            f"got {value!r}"
        )
    if isinstance(value, int | float) and value < 0:
        raise ValueError(f"Resources.cpu must be greater than or equal to 0, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"Resources.cpu must not be an empty string, got {value!r}")


def _check_quantity(name: str, value: Any, *, pair: bool) -> None:
    if pair and isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(
                f"Resources.{name} pair must have two elements (request, limit), got {value!r}"
            )
        for element in value:
            if element is None:
                raise ValueError(f"Resources.{name} pair elements must both be set, got {value!r}")
            _check_quantity(name, element, pair=False)
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"Resources.{name} must be a quantity string such as '1Gi', '512Mi' or '2G', "
            f"got {value!r}"
        )


@dataclass(frozen=True)
class Resources:
    """CPU, memory, accelerator, disk and shared-memory requests of a task.

    Args:
        cpu: Cores as an int or float (`1`, `0.5`), a quantity string (`"500m"`), or a
            `(request, limit)` pair.
        memory: A quantity string (`"1Gi"`) or a `(request, limit)` pair.
        gpu: An accelerator string (`"A100:2"`), a GPU count, or a `Device`.
        disk: Ephemeral storage as a quantity string (`"10Gi"`).
        shm: Shared memory (`/dev/shm`) as a quantity string, or `"auto"` for the node maximum.

    Example:
        ```python
        Resources(cpu=(1, 2), memory="2Gi", gpu="A100:1", disk="10Gi")
        Resources(gpu=GPU("A100", 1, partition="1g.5gb"))
        ```
    """

    cpu: CPUBaseType | tuple[CPUBaseType, CPUBaseType] | None = None
    memory: str | tuple[str, str] | None = None
    gpu: Accelerators | int | Device | None = None
    disk: str | None = None
    shm: str | Literal["auto"] | None = None

    def __post_init__(self) -> None:
        if self.cpu is not None:
            _check_cpu(self.cpu, pair=True)
        if self.memory is not None:
            _check_quantity("memory", self.memory, pair=True)
        if self.disk is not None:
            _check_quantity("disk", self.disk, pair=False)
        if self.shm is not None:
            _check_quantity("shm", self.shm, pair=False)
        gpu: Any = self.gpu
        if gpu is None or isinstance(gpu, Device):
            return
        if isinstance(gpu, bool):
            raise ValueError(f"Resources.gpu must be a count, a string or a Device, got {gpu!r}")
        if isinstance(gpu, int):
            if gpu < 0:
                raise ValueError(f"Resources.gpu must be greater than or equal to 0, got {gpu!r}")
            return
        if isinstance(gpu, str):
            name, sep, count = gpu.partition(":")
            if name in _DEPRECATED_GPU_ALIASES:
                gpu = f"{_normalize_gpu_name(name)}{sep}{count}"
                object.__setattr__(self, "gpu", gpu)
            if gpu not in get_args(Accelerators):
                raise ValueError(
                    "Resources.gpu must be an accelerator string such as 'T4:1' or 'A100:2' "
                    f"(one of the flyte_models.Accelerators values), got {gpu!r}"
                )
            return
        raise ValueError(
            "Resources.gpu must be an accelerator string such as 'A100:4', a device count, or a "
            f"GPU()/TPU()/Device() instance, got {gpu!r}"
        )

    def get_device(self) -> Device | None:
        """Return the accelerator request as a `Device`, or `None` when there is none (or `gpu=0`)."""
        gpu = self.gpu
        if gpu is None:
            return None
        if isinstance(gpu, Device):
            return gpu
        if isinstance(gpu, int):
            return Device(quantity=gpu, device_class="GPU") if gpu > 0 else None
        name, _, count = gpu.partition(":")
        device_class = _device_class_of(name)
        if device_class is None:  # pragma: no cover - excluded by __post_init__
            raise ValueError(f"Resources.gpu has an unknown device {name!r}")
        return Device(
            quantity=int(count or 1),
            device_class=device_class,  # type: ignore[arg-type]
            device=name,
        )

    def get_shared_memory(self) -> str | None:
        """Return the shared-memory size: `None` when unset, `""` for `"auto"` (node maximum)."""
        if self.shm is None:
            return None
        return "" if self.shm == "auto" else self.shm
