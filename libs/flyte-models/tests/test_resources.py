"""Resources and the accelerator helpers (GPU, TPU, Neuron, AMD_GPU, HABANA_GAUDI, APPLE_SILICON)."""

from __future__ import annotations

import logging
import typing
from typing import Any

import pytest

from flyte_models import (
    AMD_GPU,
    APPLE_SILICON,
    GPU,
    HABANA_GAUDI,
    TPU,
    Accelerators,
    Device,
    DeviceClass,
    Neuron,
    Resources,
)


def test_resources_accept_the_documented_forms() -> None:
    r = Resources(cpu=(1, "2"), memory=("1Gi", "2Gi"), gpu="A100:2", disk="10Gi", shm="auto")
    assert r.cpu == (1, "2") and r.memory == ("1Gi", "2Gi")
    assert r.get_device() == Device(quantity=2, device_class="GPU", device="A100")
    assert r.get_shared_memory() == ""
    assert Resources(shm="1Gi").get_shared_memory() == "1Gi"
    assert Resources().get_shared_memory() is None and Resources().get_device() is None
    assert Resources(cpu=0.5, memory="512Mi").cpu == 0.5


def test_get_device_for_counts_strings_and_devices() -> None:
    assert Resources(gpu=0).get_device() is None
    assert Resources(gpu=4).get_device() == Device(quantity=4, device_class="GPU")
    assert Resources(gpu="Trn1:16").get_device() == Device(16, "NEURON", "Trn1")
    assert Resources(gpu="MI300X:1").get_device() == Device(1, "AMD_GPU", "MI300X")
    assert Resources(gpu="Gaudi1:1").get_device() == Device(1, "HABANA_GAUDI", "Gaudi1")
    assert Resources(gpu="AppleSilicon").get_device() == APPLE_SILICON()
    assert Resources(gpu="T4 shared:1").get_device() == Device(1, "GPU", "T4 shared")
    dev = GPU("H100", 1, partition="1g.10gb")
    assert Resources(gpu=dev).get_device() is dev


def test_every_accelerator_string_is_accepted_and_maps_to_a_device() -> None:
    values = typing.get_args(Accelerators)
    assert len(values) == 154
    for value in values:
        device = Resources(gpu=value).get_device()
        assert device is not None and device.device == value.partition(":")[0]


def test_deprecated_gpu_spelling_is_normalised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flyte_models"):
        assert Resources(gpu="A100 80G:1").gpu == "A100_80G:1"  # type: ignore[arg-type]
        assert GPU("RTX PRO 6000", 1).device == "RTX_PRO_6000"  # type: ignore[arg-type]
    assert "deprecated" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cpu": -1}, "Resources.cpu must be greater than or equal to 0, got -1"),
        ({"cpu": [1]}, "Resources.cpu must be a core count or a quantity string .* got \\[1\\]"),
        ({"cpu": (None, 2)}, "Resources.cpu pair elements must both be set, got \\(None, 2\\)"),
        ({"cpu": (1, 2, 3)}, "Resources.cpu pair must have two elements .* got \\(1, 2, 3\\)"),
        ({"cpu": True}, "Resources.cpu must be a core count .* got True"),
        ({"cpu": " "}, "Resources.cpu must not be an empty string, got ' '"),
        ({"memory": 1024}, "Resources.memory must be a quantity string .* got 1024"),
        ({"memory": ("1Gi", None)}, "Resources.memory pair elements must both be set"),
        ({"memory": ("1Gi",)}, "Resources.memory pair must have two elements"),
        ({"disk": 10}, "Resources.disk must be a quantity string .* got 10"),
        ({"shm": 1}, "Resources.shm must be a quantity string .* got 1"),
        ({"gpu": -1}, "Resources.gpu must be greater than or equal to 0, got -1"),
        ({"gpu": "A100:9"}, "Resources.gpu must be an accelerator string .* got 'A100:9'"),
        (
            {"gpu": ("A100", 1)},
            "Resources.gpu must be an accelerator string .* got \\('A100', 1\\)",
        ),
        ({"gpu": True}, "Resources.gpu must be a count, a string or a Device, got True"),
    ],
)
def test_bad_resources_name_field_and_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Resources(**kwargs)


def test_resources_are_frozen_and_hashable() -> None:
    r = Resources(cpu=1)
    with pytest.raises(AttributeError):
        r.cpu = 2  # type: ignore[misc]
    assert hash(r) == hash(Resources(cpu=1))


def test_gpu_helper() -> None:
    assert GPU("T4", 1) == Device(quantity=1, device_class="GPU", device="T4")
    assert GPU("A100", 2, partition="1g.5gb").partition == "1g.5gb"
    with pytest.raises(ValueError, match="GPU device must be one of .* got 'Z1'"):
        GPU("Z1", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="GPU quantity must be an int of at least 1, got 0"):
        GPU("T4", 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="GPU partition for A100 must be one of .* got '9g'"):
        GPU("A100", 1, partition="9g")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="T4 cannot be partitioned, got partition='1g.5gb'"):
        GPU("T4", 1, partition="1g.5gb")
    with pytest.raises(ValueError, match="shared GPU \\(T4 shared\\) takes none, got '1g.5gb'"):
        GPU("T4 shared", 1, partition="1g.5gb")


def test_tpu_helper() -> None:
    assert TPU("V5P", "2x2x1") == Device(
        quantity=1, device_class="TPU", device="V5P", partition="2x2x1"
    )
    assert TPU("V6E").partition is None
    with pytest.raises(ValueError, match="TPU device must be one of .* got 'V4'"):
        TPU("V4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="TPU partition for V5E must be one of .* got '2x2x1'"):
        TPU("V5E", "2x2x1")  # type: ignore[arg-type]


def test_other_device_helpers() -> None:
    assert Neuron("Inf2") == Device(1, "NEURON", "Inf2")
    assert AMD_GPU("MI300X").device_class == "AMD_GPU"
    assert HABANA_GAUDI("Gaudi1").device_class == "HABANA_GAUDI"
    assert APPLE_SILICON() == Device(1, "APPLE_SILICON", "AppleSilicon")
    helpers: list[tuple[Any, str]] = [(Neuron, "Inf9"), (AMD_GPU, "MI1"), (HABANA_GAUDI, "Gaudi9")]
    for helper, bad in helpers:
        with pytest.raises(ValueError, match=f"got '{bad}'"):
            helper(bad)


def test_device_validation() -> None:
    classes: tuple[DeviceClass, ...] = typing.get_args(DeviceClass)
    assert "APPLE_SILICON" in classes
    with pytest.raises(ValueError, match="Device.quantity must be at least 1, got 0"):
        Device(0, "GPU")
    with pytest.raises(TypeError, match="Device.quantity must be an int, got '1'"):
        Device("1", "GPU")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Device.device_class must be one of .* got 'FPGA'"):
        Device(1, "FPGA")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device='AppleSilicon', device_class='GPU'"):
        Device(1, "GPU", "AppleSilicon")
    with pytest.raises(
        ValueError, match="Device.quantity must be 1 for the Mac's single Metal GPU, got 2"
    ):
        Device(2, "APPLE_SILICON", "AppleSilicon")
